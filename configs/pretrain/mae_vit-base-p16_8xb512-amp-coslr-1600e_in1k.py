_base_ = './mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'

# the 800-epoch schedule over 1600 epochs (the cosine follows max_epochs; 40 warmup epochs)
train_cfg = dict(max_epochs=1600)
