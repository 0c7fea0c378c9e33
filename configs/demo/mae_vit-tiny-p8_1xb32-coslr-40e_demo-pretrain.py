# The CPU demo: the ViT-B recipe on a tiny ViT and the embedded demo images (64 x 64).
_base_ = '../pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'

# model size: tiny ViT with 8 x 8 patches (64 patches, 16 visible) and a 2-block decoder
vit = _base_.vit_sizes.tiny_p8
model = dict(
    encoder=dict(arch=vit.arch, pretrain_img_size=64, patch_size=vit.patch_size),
    decoder=dict(embed_dim=128, depth=2, num_heads=4),
)

# data: every image under data/demo/imagenet/train (python tools/make_demo_data.py)
data_root = 'data/demo/imagenet/'
train_pipeline = [
    dict(type='DecodeRandomResizedCrop', scale=64, crop_ratio_range=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='mmpretrain.ResizeEdge', scale=73, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='mmpretrain.CenterCrop', crop_size=64),
    dict(type='mmpretrain.PackInputs'),
]
demo_images = dict(type='mmpretrain.CustomDataset', data_root=data_root, with_label=False)
train_dataloader = dict(
    batch_size=32, num_workers=2, pin_memory=False,
    dataset=dict(_delete_=True, data_prefix='train', pipeline=train_pipeline, **demo_images))
val_dataloader = dict(
    batch_size=50, num_workers=1, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(data_prefix='val', pipeline=test_pipeline, **demo_images))
test_dataloader = dict(
    batch_size=50, num_workers=1, persistent_workers=False,
    dataset=dict(_delete_=True, data_prefix='val', pipeline=test_pipeline, **demo_images))
val_evaluator = dict(type='MaskedReconstructionMetric')
val_cfg = dict()

# length, and the lr a batch of 32 needs: 8e-3 per 256 images -> 1e-3 here; 4 warmup epochs,
# then the base's cosine to 0 at the run's end
train_cfg = dict(max_epochs=40, val_interval=10)
optim_wrapper = dict(optimizer=dict(lr=8e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=4, convert_to_iter_based=True),
    dict(_base_.param_scheduler[1], begin=4),
]
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(max_keep_ckpts=2))
work_dir = 'work_dirs/demo/pretrain'

# watching the run (README "Watching a run"): reconstruction panels of 4 fixed val images and the
# online kNN probe (train images vs the val images, labelled by their class folders), at epoch 0
# (kNN only), every 10 epochs and at the end; the base's hooks are kept (_base_.custom_hooks)
knn_images = dict(type='mmpretrain.CustomDataset', data_root=data_root, pipeline=test_pipeline)
custom_hooks = _base_.custom_hooks + [
    dict(type='mae_mm.ReconstructionVisHook', interval=10, num_images=4),
    dict(type='mae_mm.KNNProbeHook', interval=10, num_train=400, num_val=100, batch_size=100,
         train_dataset=dict(data_prefix='train', **knn_images), val_dataset=dict(data_prefix='val', **knn_images)),
]
