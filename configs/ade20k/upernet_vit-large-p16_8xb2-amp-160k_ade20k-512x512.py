# UperNet on the MAE-pretrained ViT-L/16 (the MAE paper's Table 5: 53.6 mIoU); the ViT-B recipe.
_base_ = './upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

vit = _base_.vit_sizes.large_p16
model = dict(
    backbone=dict(
        arch=vit.arch,
        out_indices=(7, 11, 15, 23),
        init_cfg=dict(checkpoint='work_dirs/mae_vit-large-p16_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth')),
    neck=dict(embed_dim=vit.embed_dim),
    decode_head=dict(in_channels=[vit.embed_dim] * 4, channels=1024),
    auxiliary_head=dict(in_channels=vit.embed_dim))
