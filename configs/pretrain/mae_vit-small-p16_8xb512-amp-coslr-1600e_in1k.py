_base_ = './mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.py'

vit = _base_.vit_sizes.small_p16
model = dict(encoder=dict(arch=vit.arch))
