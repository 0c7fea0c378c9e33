# Table 1e's "none" (84.0 / 65.7 ft / lin cited with ViT-L): no augmentation, the image resized
# (short side 256, bicubic) and centre-cropped to 224, as the evaluation pipeline. No flip: the paper
# runs this row "only center-crop, no flipping" (Sec. 4.1, Data augmentation).
# A pretraining leaf selects one pipeline of this folder's mae-pretrain-aug_*.py (each file holds
# only pretrain_aug_pipeline, so it adds no key the pretraining configs have):
#   _base_ = ['./mae_vit-large-p16_8xb512-amp-coslr-800e_in1k.py', '../_base_/datasets/mae-pretrain-aug_none.py']
#   train_pipeline = _base_.pretrain_aug_pipeline
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# RandomResizedCrop + flip, Table 1e's default, is imagenet_mae-pretrain.py's train_pipeline.
pretrain_aug_pipeline = [
    dict(type='LoadCheckedImage', min_short_edge=256),  # a JPEG decoded at the DCT scale the resize needs
    dict(type='mmpretrain.ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='mmpretrain.CenterCrop', crop_size=224),
    dict(type='mmpretrain.PackInputs'),
]
