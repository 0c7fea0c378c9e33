# The CPU demo of the ADE20K transfer: the ViT-B UperNet recipe on the tiny demo ViT (8 x 8
# patches) and the embedded demo ADE20K (python tools/make_demo_data.py), from the demo
# pretraining checkpoint. Changes: model size, data, length, lr, seed; evaluation by tools/test.py only.
#   python tools/train.py configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py
#   python tools/test.py configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py \
#       work_dirs/demo/ade20k/iter_200.pth
_base_ = '../ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

# model: tiny ViT (6 blocks, width 192) at the pretraining resolution (64 x 64, an 8 x 8 grid),
# features of blocks 1, 2, 3, 5 (0-based); narrow heads for 4 classes
crop_size = (64, 64)
vit = _base_.vit_sizes.tiny_p8
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch=vit.arch, img_size=crop_size, patch_size=vit.patch_size, out_indices=(1, 2, 3, 5),
                  init_cfg=dict(checkpoint=vit.mae_checkpoint)),
    neck=dict(embed_dim=vit.embed_dim),
    decode_head=dict(in_channels=[vit.embed_dim] * 4, channels=32, num_classes=4),
    auxiliary_head=dict(in_channels=vit.embed_dim, channels=16, num_classes=4),
    test_cfg=dict(crop_size=crop_size, stride=(43, 43)))  # the 512 / 341 window-to-stride ratio

# data: data/demo/ade20k in ADE20K's layout and label convention (0 = other, ignored), with its
# own four classes; ADE20K's pipeline at a short side of 96 instead of 512
data_root = 'data/demo/ade20k'
metainfo = dict(classes=('photo', 'disk', 'stripes', 'checkers'),
                palette=[[128, 128, 128], [255, 0, 0], [0, 255, 0], [0, 0, 255]])
demo_set = dict(type='BaseSegDataset', data_root=data_root, metainfo=metainfo, img_suffix='.jpg',
                seg_map_suffix='.png', reduce_zero_label=True)
train_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='mae_mm.CheckSegLabels', num_classes=4, ignore_index=255),
    dict(type='RandomResize', scale=(384, 96), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='Resize', scale=(384, 96), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=False,
    dataset=dict(pipeline=train_pipeline, **demo_set))
test_dataloader = dict(
    batch_size=1, num_workers=1, persistent_workers=False,
    dataset=dict(data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
                 pipeline=test_pipeline, **demo_set))
# evaluated once, by tools/test.py, not during training
val_dataloader = None
val_cfg = None
val_evaluator = None

# length and lr: 200 iterations at batch 8, 20 of warmup, then poly to 0 at the run's end, lr 2e-3
# at the top of the layer decay; one checkpoint, at the end
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=20),
]
train_cfg = dict(max_iters=200)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=200, max_keep_ckpts=1))
work_dir = 'work_dirs/demo/ade20k'
randomness = dict(seed=0)
