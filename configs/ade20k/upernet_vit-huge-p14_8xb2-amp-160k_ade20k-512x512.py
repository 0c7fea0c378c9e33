# UperNet on the MAE-pretrained ViT-H/14, used with 16 x 16 patches (its patch kernel is interpolated
# bicubically from 14 to 16 at load, as for COCO; its position table to the 32 x 32 grid); the ViT-B recipe.
_base_ = './upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

vit = _base_.vit_sizes.huge_p14
model = dict(
    backbone=dict(
        arch=vit.arch,
        patch_size=16,
        out_indices=(7, 15, 23, 31),
        init_cfg=dict(checkpoint='work_dirs/mae_vit-huge-p14_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth')),
    neck=dict(embed_dim=vit.embed_dim),
    decode_head=dict(in_channels=[vit.embed_dim] * 4, channels=1024),
    auxiliary_head=dict(in_channels=vit.embed_dim))
