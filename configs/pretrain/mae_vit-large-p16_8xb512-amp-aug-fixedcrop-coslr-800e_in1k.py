# Table 1e's "crop, fixed size" (84.7 cited):
# the ViT-L 800-epoch pretraining with the pipeline of
# _base_/datasets/mae-pretrain-aug_fixed-crop.py. Table 1's runs reconstruct pixels without per-patch norm
# (--cfg-options model.target.type=PixelTarget); this config keeps the recipe's normalised pixels.
_base_ = ['./mae_vit-large-p16_8xb512-amp-coslr-800e_in1k.py', '../_base_/datasets/mae-pretrain-aug_fixed-crop.py']

train_pipeline = _base_.pretrain_aug_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
