# Linear probing of an MAE ViT-L/16 (75.8 top-1 cited).
_base_ = './vit-base-p16_8xb2048-linprobe-coslr-90e_in1k.py'

vit = _base_.vit_sizes.large_p16
model = dict(
    backbone=dict(arch=vit.arch, init_cfg=dict(
        checkpoint=vit.mae_checkpoint)),
    neck=dict(input_features=vit.embed_dim),
    head=dict(in_channels=vit.embed_dim))
