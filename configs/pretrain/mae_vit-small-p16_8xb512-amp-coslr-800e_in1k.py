# MAE ViT-S/16 (timm's ViT-S: width 384, depth 12, 6 heads): the ViT-B recipe and decoder. The
# paper has no ViT-S; asked for in facebookresearch/mae#150.
_base_ = './mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'

vit = _base_.vit_sizes.small_p16
model = dict(encoder=dict(arch=vit.arch))
