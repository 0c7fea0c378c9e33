# Fine-tuning of an MAE ViT-S/16 with the ViT-B recipe (no cited result: the paper has no ViT-S).
_base_ = './vit-base-p16_8xb128-coslr-100e_in1k.py'

vit = _base_.vit_sizes.small_p16
model = dict(
    backbone=dict(arch=vit.arch, init_cfg=dict(
        checkpoint=vit.mae_checkpoint)),
    head=dict(in_channels=vit.embed_dim))
