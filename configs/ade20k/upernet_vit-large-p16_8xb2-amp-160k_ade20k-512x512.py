# UperNet on the MAE-pretrained ViT-L/16 (the MAE paper's Table 5: 53.6 mIoU); the ViT-B recipe.
_base_ = './upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        arch='large',
        out_indices=(7, 11, 15, 23),
        init_cfg=dict(checkpoint='work_dirs/mae_vit-large-p16_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth')),
    neck=dict(embed_dim=1024),
    decode_head=dict(in_channels=[1024] * 4, channels=1024),
    auxiliary_head=dict(in_channels=1024))
