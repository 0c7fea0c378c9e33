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

# data: data/demo/imagenet/{train,val}/<class>/*.JPEG (python tools/make_demo_data.py), through
# the recipe's pipelines at 64 x 64 (the short edge resized to 73 for the centre crop, as the
# recipe's 256 for 224)
demo_root = 'data/demo/imagenet'
demo_sizes = {'mae_mm.DecodeRandomResizedCrop': dict(scale=64), 'ResizeEdge': dict(scale=73),
              'CenterCrop': dict(crop_size=64)}
train_pipeline = [dict(step, **demo_sizes.get(step.type, {})) for step in _base_.train_pipeline]
test_pipeline = [dict(step, **demo_sizes.get(step.type, {})) for step in _base_.test_pipeline]
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
