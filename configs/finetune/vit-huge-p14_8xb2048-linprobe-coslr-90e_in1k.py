# Linear probing of an MAE ViT-H/14.
_base_ = './vit-large-p16_8xb2048-linprobe-coslr-90e_in1k.py'

vit = _base_.vit_sizes.huge_p14
model = dict(
    backbone=dict(arch=vit.arch, init_cfg=dict(
        checkpoint=vit.mae_checkpoint)),
    neck=dict(input_features=vit.embed_dim),
    head=dict(in_channels=vit.embed_dim))
