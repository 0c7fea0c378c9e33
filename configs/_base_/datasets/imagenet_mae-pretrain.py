# ImageNet-1k for MAE pretraining: RandomResizedCrop(224, scale 0.2-1, bicubic) + flip.
# mmpretrain's ImageNet reads data_root/train/<class>/*.JPEG, or data_root/meta/train.txt
# with data_root/train/ when that annotation file exists.
# LoadCheckedImage: mmcv's loader that raises naming the file on a corrupt, truncated or empty
# image (16-bit, CMYK, EXIF rotation handled); skip and count bad files instead with
#   --cfg-options train_dataloader.dataset.pipeline.0.on_error=skip
dataset_type = 'mmpretrain.ImageNet'
data_root = 'data/imagenet/'

# DecodeRandomResizedCrop: LoadCheckedImage + mmpretrain's RandomResizedCrop (the same draws) that
# decodes a JPEG only at the DCT scale the crop needs and resizes with torch's uint8 antialiased kernel
# (docs/benchmark.md, "Data loading"); the full decode and Pillow resize of before with
#   --cfg-options train_dataloader.dataset.pipeline.0.reduced_decode=False
train_pipeline = [
    dict(type='DecodeRandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='mmpretrain.PackInputs'),
]

# Workers restart each epoch (persistent_workers=False): their augmentation streams then
# restart with the epoch as they do after a --resume, which keeps a resumed run bit-exact
# (mae_mm/engine/random_state_hook.py); the cost is the workers' start-up once per epoch.
train_dataloader = dict(
    batch_size=512,
    num_workers=10,
    persistent_workers=False,
    pin_memory=True,
    drop_last=True,  # as the official code; every step then has the same shape (no recompile)
    sampler=dict(type='mae_mm.ResumableSampler', shuffle=True),  # DefaultSampler that can start mid-epoch
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline),
)

# Evaluation of a pretraining checkpoint (tools/test.py): the masked reconstruction loss on
# the validation images, resized to 256 and centre-cropped to 224, with fixed masking noise.
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='mmpretrain.ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='mmpretrain.CenterCrop', crop_size=224),
    dict(type='mmpretrain.PackInputs'),
]
test_dataloader = dict(
    batch_size=64,
    num_workers=5,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline),
)
test_evaluator = dict(type='MaskedReconstructionMetric')
test_cfg = dict()
