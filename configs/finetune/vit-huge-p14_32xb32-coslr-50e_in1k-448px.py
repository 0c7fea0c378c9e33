# MAE ViT-H/14 fine-tuned and evaluated at 448 (87.8 top-1 cited). The 224 pretraining
# position table (16 x 16) is resampled bicubically to 32 x 32 when the checkpoint loads.
# Batch 32 x 32 = 1024.
_base_ = './vit-huge-p14_8xb128-coslr-50e_in1k.py'

model = dict(backbone=dict(img_size=448))
train_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='RandomResizedCrop', scale=448, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5, hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=[103.53, 116.28, 123.675], fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
# evaluation crops 448 from a 512 short side, the same 0.875 ratio as 224 from 256
test_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='ResizeEdge', scale=512, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=448),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
