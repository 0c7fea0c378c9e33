# UperNet on the MAE-pretrained ViT-B/16, ADE20K 512 x 512 (the MAE paper's Table 5: 48.1 mIoU).
#   python tools/train.py configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py
#   bash tools/dist_train.sh configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py 8
# mmsegmentation's MAE recipe (configs/mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py) on
# mmseg's own bases: UperNet with a Feature2Pyramid neck (1/16 -> 1/4, 1/8, 1/16, 1/32) and an FCN
# auxiliary head on the third level, the ADE20K pipeline (512 crops, resize ratio 0.5-2.0, flip,
# photometric distortion), the 160k schedule and runtime (default_scope 'mmseg'). Ours: the ViT
# backbone, a norm on the neck's 2x path too, the layer-decay constructor, the checked loading
# (below) and the reliability hooks.
_base_ = [
    'mmseg::_base_/models/upernet_mae.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/schedules/schedule_160k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/reliability.py',
    '../_base_/models/vit_sizes.py',
]

# the reliability base's list restated (mmengine replaces lists whole) plus our segmentation parts
custom_imports = dict(imports=['mae_mm.runtime', 'mae_mm.models.seg'], allow_failed_imports=False)

vit = _base_.vit_sizes.base_p16

crop_size = (512, 512)
num_classes = 150
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _delete_=True,
        type='mae_mm.SegViTBackbone',
        arch=vit.arch,
        img_size=crop_size,
        out_indices=(3, 5, 7, 11),  # 0-based block indices
        drop_path_rate=0.1,
        rel_pos_bias=True,
        with_checkpoint=False,
        # the pretraining run's last checkpoint (tools/train.py's default work dir); its
        # encoder.* keys are this backbone's parameter names
        init_cfg=dict(type='Pretrained', prefix='encoder.',
                      checkpoint=vit.mae_checkpoint)),
    # mmseg's Feature2Pyramid plus a norm after the 2x transposed convolution (norm_2x=False: mmseg's
    # / BEiT's neck exactly); SyncBN, which mmengine reverts to BN under a non-distributed runner
    neck=dict(type='mae_mm.NormedFeature2Pyramid', embed_dim=vit.embed_dim, rescales=[4, 2, 1, 0.5],
              norm_cfg=dict(type='SyncBN', requires_grad=True), norm_2x=True),
    decode_head=dict(in_channels=[vit.embed_dim] * 4, channels=768, num_classes=num_classes),
    auxiliary_head=dict(in_channels=vit.embed_dim, num_classes=num_classes),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

# AdamW 1e-4, wd 0.05, lr x 0.65^(L + 1 - layer) per ViT layer (block 0: 0.65^12 = 5.7e-3); no
# weight decay on biases, norms, the tokens and the bias tables. bf16 autocast on a GPU, fp32 on a
# CPU-only machine. The ViT-L and ViT-H configs choose their own decay and drop path (see there).
# Not matched from mmseg's MAE recipe, argued:
# - layer scale: mmseg's MAE backbone (init_values=1.0) multiplies each residual branch by a
#   trained per-channel scale, a part of its BEiT backbone. The MAE encoder is pretrained without
#   one, and the MAE paper describes none; ours keeps the pretrained blocks as they are.
# - weight decay on cls_token, pos_embed and the relative position bias tables: mmseg's
#   LayerDecayOptimizerConstructor (as BEiT's segmentation code it was ported from, cited) means
#   to spare 'pos_embed' and 'cls_token', but tests the bare names against full ones
#   ('backbone.pos_embed'), so it decays them; the 2-D bias tables it decays too (it spares only
#   1-D parameters and biases). We keep the evident intent, as MAE's own fine-tuning code does for
#   the tokens (its model's no_weight_decay()), and spare the zero-initialised tables as well.
#   mmseg's behaviour exactly: --cfg-options "optim_wrapper.paramwise_cfg.no_decay=['1d']".
# - precision: mmseg runs fp16 with a dynamic loss scaler; bf16 needs none (fp32's exponent range).
optim_wrapper = dict(
    _delete_=True,
    type='mae_mm.build_amp_optim_wrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mae_mm.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65,
                       no_decay=['1d', 'cls_token', 'pos_embed', 'relative_position_bias_table']))

# atomic writes, the old checkpoint removed only once the new one is written (mae_mm/engine/checkpoint_hook.py)
default_hooks = dict(checkpoint=dict(type='mae_mm.WriteFirstCheckpointHook', backend_args=dict(backend='atomic_local')))

# 1500 iterations of linear warmup, then poly (power 1) to 0 at the run's end (160k; no `end`:
# the Runner sets it to train_cfg.max_iters, so changing the length alone keeps the shape)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500),
]
# mmseg's 160k iteration loop, as mae_mm's that can also roll back (NonFiniteLossHook)
train_cfg = dict(type='mae_mm.ResumableIterBasedTrainLoop')

# mmseg's ADE20K pipelines with our loader (a corrupt, truncated or empty image stops the run
# naming the file; --cfg-options train_dataloader.dataset.pipeline.0.on_error=skip skips and
# counts them) and a label check after reduce_zero_label (a label >= num_classes other than
# 255 stops the run naming the seg map; on_error='ignore' sets it to 255 with a warning).
train_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mae_mm.CheckSegLabels', num_classes=num_classes, ignore_index=255),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]

# 8 GPUs x 2 images = batch 16
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# a peer that stops answering ends the run after 600 s, not torch's 30 min (gloo): as our own runtime
# (configs/_base_/default_runtime.py says why); mmdet's / mmseg's runtime base sets no timeout
env_cfg = dict(dist_cfg=dict(timeout=600))
