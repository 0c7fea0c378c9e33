# End-to-end fine-tuning of an MAE ViT-B/16 on ImageNet-1k (the paper's recipe; 83.6 top-1 cited).
# Pass the pretraining checkpoint with --cfg-options model.backbone.init_cfg.checkpoint=PATH.
# The default is the 1600-epoch pretraining's last checkpoint: the cited 83.6 (FINETUNE.md; the
# paper's Table 3) is for a 1600-epoch model.
_base_ = [
    '../_base_/datasets/imagenet_finetune.py',
    '../_base_/default_runtime_mmpretrain.py',
    '../_base_/models/vit_sizes.py',
]

vit = _base_.vit_sizes.base_p16

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', num_classes=1000,
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(
        type='mae_mm.ViTClsBackbone', arch=vit.arch, img_size=224, drop_path_rate=0.1,
        out_type='avg_featmap',
        init_cfg=dict(type='Pretrained', prefix='encoder.',
                      checkpoint=vit.mae_checkpoint)),
    neck=None,
    head=dict(
        type='LinearClsHead', num_classes=1000, in_channels=vit.embed_dim,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)]),
    # one of mixup (0.8) and cutmix (1.0) per batch, as the paper's switch probability 0.5
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]),
)

# AdamW with layer-wise lr decay; no weight decay on 1-D parameters, the cls token and the
# position table. lr = blr x total batch / 256 (auto_scale_lr); batch 8 x 128 = 1024. With
# optim_wrapper.accumulative_counts=k the total batch counts the k accumulated iterations too, as
# the official code's accum_iter (tools/train.py, mae_mm/launch/config_checks.py).
# Precision, not matched: bf16 autocast without a loss scaler where the official code runs fp16
# with one (torch.cuda.amp); bf16 has fp32's exponent range, so gradients need no scaling and a
# step is never skipped for an overflow. --amp fp16 gives the official's fp16 + dynamic scaler.
blr = 5e-4
optim_wrapper = dict(
    type='mae_mm.build_amp_optim_wrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=blr, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mae_mm.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, no_decay=('1d', 'cls_token', 'pos_embed')),
)
auto_scale_lr = dict(base_batch_size=256, enable=True)

# 5 warmup epochs, then cosine to 1e-6 (eta_min_ratio keeps each layer's group at its own
# scale of that floor, as the paper's code does, for the documented batch of 1024). The warmup
# starts at 1e-4 of the lr where the official code starts at 0 (not matched: mmengine's
# LinearLR divides by start_factor, and start_factor=0 raises ZeroDivisionError); the two
# ramps differ by at most 1e-4 of the lr at any iteration. The cosine ends with the run
# (no `end`: the Runner sets it to train_cfg.max_epochs), so changing max_epochs alone keeps the
# recipe's shape.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-6 / (blr * 1024 / 256), by_epoch=True, begin=5,
         convert_to_iter_based=True),
]
train_cfg = dict(type='mae_mm.ResumableEpochBasedTrainLoop', max_epochs=100, val_interval=1)
