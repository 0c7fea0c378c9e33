# ViT-B/16 800e with JPEG decoding on the GPU. The workers read the files and draw each crop
# box and flip exactly as RandomResizedCrop(224, scale 0.2-1, bicubic) + RandomFlip(0.5) do
# on CPU; the data preprocessor decodes the batch with nvJPEG, crops, resizes (bicubic,
# antialiased), flips and normalises there. JPEG files only.
_base_ = './mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'

# the base's list restated (mmengine replaces lists whole) plus the two GPU-decode modules
custom_imports = dict(imports=['mae_mm.runtime', 'mae_mm.datasets.gpu_decode',
                               'mae_mm.models.mae.jpeg_decode_preprocessor'], allow_failed_imports=False)

model = dict(data_preprocessor=dict(type='JpegDecodeDataPreprocessor', to_rgb=False))
train_pipeline = [
    dict(type='LoadJpegBytes'),
    dict(type='RandomResizedCropParams', scale=224, crop_ratio_range=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlipParams', prob=0.5),
    dict(type='PackJpegBytes'),
]
train_dataloader = dict(
    collate_fn=dict(type='pseudo_collate'),  # byte strings of different lengths
    dataset=dict(pipeline=train_pipeline))
