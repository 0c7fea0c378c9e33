_base_ = './mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.py'

model = dict(encoder=dict(arch='large'))
