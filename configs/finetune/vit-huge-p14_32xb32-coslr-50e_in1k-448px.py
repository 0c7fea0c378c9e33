# MAE ViT-H/14 fine-tuned and evaluated at 448 (87.8 top-1 cited). The 224 pretraining
# position table (16 x 16) is resampled bicubically to 32 x 32 when the checkpoint loads.
# Batch 32 x 32 = 1024. The pipelines are the 224 ones (RandAugment's fill included) at 448.
_base_ = './vit-huge-p14_8xb128-coslr-50e_in1k.py'

model = dict(backbone=dict(img_size=448))

train_pipeline = _base_.train_pipeline
train_pipeline[0].scale = 448  # DecodeRandomResizedCrop
# Evaluation: resize the short side to 448, then centre-crop 448. The official code
# (util/datasets.py, cited) takes crop_pct = 224 / 256 only up to 224 and 1.0 above it, so at
# 448 nothing is cropped away (not 512 -> 448, the 0.875 ratio of 256 -> 224).
test_pipeline = _base_.test_pipeline
test_pipeline[1].scale = 448  # ResizeEdge, short side
test_pipeline[2].crop_size = 448  # CenterCrop

train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
