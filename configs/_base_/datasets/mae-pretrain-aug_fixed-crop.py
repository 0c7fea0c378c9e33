# Table 1e's "crop, fixed size" (84.7 / 73.1 cited): a 224 x 224 crop at a random place of the image
# resized to a short side of 256 (bicubic), i.e. the evaluation's resize with a random instead of a
# central crop, then the horizontal flip. The paper names the row only; the 256 -> 224 sizes are
# ours (those of its evaluation). Selected as in mae-pretrain-aug_none.py.
pretrain_aug_pipeline = [
    dict(type='LoadCheckedImage', min_short_edge=256),  # a JPEG decoded at the DCT scale the resize needs
    dict(type='mmpretrain.ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='mmpretrain.RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5),
    dict(type='mmpretrain.PackInputs'),
]
