# UperNet on the MAE-pretrained ViT-B/16, ADE20K 512 x 512 (the MAE paper's Table 5: 48.1 mIoU).
#   python tools/train.py configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py
#   bash tools/dist_train.sh configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py 8
# mmsegmentation's MAE recipe (configs/mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py) on
# mmseg's own bases: UperNet with Feature2Pyramid (1/16 -> 1/4, 1/8, 1/16, 1/32) and an FCN
# auxiliary head on the third level, the ADE20K pipeline (512 crops, resize ratio 0.5-2.0, flip,
# photometric distortion), the 160k schedule and runtime (default_scope 'mmseg'). Ours: the ViT
# backbone and the layer-decay constructor.
_base_ = [
    'mmseg::_base_/models/upernet_mae.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/schedules/schedule_160k.py',
    'mmseg::_base_/default_runtime.py',
]

crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _delete_=True,
        type='mae_mm.SegViTBackbone',
        arch='base',
        img_size=crop_size,
        out_indices=(3, 5, 7, 11),  # 0-based block indices
        drop_path_rate=0.1,
        rel_pos_bias=True,
        with_checkpoint=False,
        # the pretraining run's last checkpoint (tools/train.py's default work dir); its
        # encoder.* keys are this backbone's parameter names
        init_cfg=dict(type='Pretrained', prefix='encoder.',
                      checkpoint='work_dirs/mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth')),
    neck=dict(embed_dim=768, rescales=[4, 2, 1, 0.5]),  # SyncBN: plain BN under a non-distributed runner
    decode_head=dict(in_channels=[768] * 4, channels=768, num_classes=150),
    auxiliary_head=dict(in_channels=768, num_classes=150),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

# AdamW 1e-4, wd 0.05, lr x 0.65^(L + 1 - layer) per ViT layer; no weight decay on biases, norms,
# the tokens and the bias tables. bf16 autocast on a GPU, fp32 on a CPU-only machine.
optim_wrapper = dict(
    _delete_=True,
    type='mae_mm.AmpIfAvailableOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mae_mm.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65,
                       no_decay=['1d', 'cls_token', 'pos_embed', 'relative_position_bias_table']))

# 1500 iterations of linear warmup, then poly (power 1) to 0 at 160k
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500, end=160000),
]

# 8 GPUs x 2 images = batch 16
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
