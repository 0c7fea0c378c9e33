# Linear probing of an MAE ViT-B/16 (68.0 top-1 cited): frozen encoder in eval mode, the cls
# token after the final norm, BatchNorm without affine (eps 1e-6), a linear head (std 0.01);
# LARS, blr 0.1, batch 8 x 2048 = 16384, 90 epochs with 10 warmup; weak augmentation.
# The default checkpoint is the 1600-epoch pretraining's last: the cited 68.0 / 75.8 (B / L; the
# paper's Table 3 and FINETUNE.md) are for 1600-epoch models.
_base_ = [
    '../_base_/datasets/imagenet_finetune.py',
    '../_base_/default_runtime_mmpretrain.py',
    '../_base_/models/vit_sizes.py',
]

vit = _base_.vit_sizes.base_p16

# weak augmentation: the fine-tuning pipeline without RandAugment and random erasing
train_pipeline = [step for step in _base_.train_pipeline if step.type not in ('RandAugment', 'RandomErasing')]
train_dataloader = dict(batch_size=2048, drop_last=True, dataset=dict(pipeline=train_pipeline))

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', num_classes=1000,
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(
        type='mae_mm.ViTClsBackbone', arch=vit.arch, img_size=224, out_type='cls_token', frozen=True,
        init_cfg=dict(type='Pretrained', prefix='encoder.',
                      checkpoint=vit.mae_checkpoint)),
    neck=dict(type='ClsBatchNormNeck', input_features=vit.embed_dim, affine=False, eps=1e-6),
    head=dict(
        type='LinearClsHead', num_classes=1000, in_channels=vit.embed_dim, loss=dict(type='CrossEntropyLoss'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.01)]),
)

# LARS (momentum 0.9, trust coefficient 0.001, wd 0) without adaptation for 1-D parameters
# (here the head's bias); lr = blr x total batch / 256 (accumulation counted, as fine-tuning).
# bf16 without a loss scaler where the official code runs fp16 with one, and a warmup from 1e-4
# of the lr where it starts at 0: both argued in vit-base-p16_8xb128-coslr-100e_in1k.py.
optim_wrapper = dict(
    type='mae_mm.build_amp_optim_wrapper',
    dtype='bfloat16',
    optimizer=dict(type='LARS', lr=0.1, weight_decay=0.0, momentum=0.9, eta=0.001),
    paramwise_cfg=dict(custom_keys={'.bias': dict(lars_exclude=True)}),
)
auto_scale_lr = dict(base_batch_size=256, enable=True)

# the cosine ends with the run (no `end`: the Runner sets it to train_cfg.max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=10, convert_to_iter_based=True),
]
train_cfg = dict(type='mae_mm.ResumableEpochBasedTrainLoop', max_epochs=90, val_interval=1)
