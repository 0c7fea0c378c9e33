# CPU demo: the ViT-B fine-tuning recipe on the tiny demo ViT, from the demo pretraining
# checkpoint, on the five demo classes at 64 x 64.
_base_ = '../finetune/vit-base-p16_8xb128-coslr-100e_in1k.py'

# model size (as the demo pretraining) and the demo's classes
vit = _base_.vit_sizes.tiny_p8
model = dict(
    data_preprocessor=dict(num_classes=5),
    backbone=dict(arch=vit.arch, img_size=64, patch_size=vit.patch_size,
                  init_cfg=dict(checkpoint=vit.mae_checkpoint)),
    head=dict(num_classes=5, in_channels=vit.embed_dim))

# data: data/demo/imagenet/{train,val}/<class>/*.JPEG (python tools/make_demo_data.py)
demo_root = 'data/demo/imagenet'
train_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='RandomResizedCrop', scale=64, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5, hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=[103.53, 116.28, 123.675], fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='ResizeEdge', scale=73, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=2, pin_memory=False,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=demo_root, data_prefix='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=50, num_workers=1, persistent_workers=False, pin_memory=False,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=demo_root, data_prefix='val',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, 2))  # five classes: top-5 would be trivially 100%
test_evaluator = val_evaluator

# length, and the lr a batch of 32 needs
blr = 4e-3
optim_wrapper = dict(optimizer=dict(lr=blr))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=3, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=3, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=30, val_interval=10)
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(max_keep_ckpts=1))
work_dir = 'work_dirs/demo/finetune'
