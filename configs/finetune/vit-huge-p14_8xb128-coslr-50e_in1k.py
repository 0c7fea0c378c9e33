# MAE ViT-H/14 fine-tuning at 224 (86.9 top-1 cited): as ViT-L, with drop path 0.3.
_base_ = './vit-large-p16_8xb128-coslr-50e_in1k.py'

vit = _base_.vit_sizes.huge_p14
model = dict(
    backbone=dict(arch=vit.arch, drop_path_rate=0.3, init_cfg=dict(
        checkpoint=vit.mae_checkpoint)),
    head=dict(in_channels=vit.embed_dim))
