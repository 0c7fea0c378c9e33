# Linear probing of an MAE ViT-H/14.
_base_ = './vit-large-p16_8xb2048-linprobe-coslr-90e_in1k.py'

model = dict(
    backbone=dict(arch='huge', init_cfg=dict(
        checkpoint='work_dirs/mae_vit-huge-p14_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth')),
    neck=dict(input_features=1280),
    head=dict(in_channels=1280))
