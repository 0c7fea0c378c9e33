# Table 1e's "crop + color jit" (84.3 / 71.9 cited): imagenet_mae-pretrain.py's RandomResizedCrop
# (224, scale 0.2-1, bicubic) and flip, then colour jitter. The paper gives no strength; this is
# MoCo v3's (Chen, Xie, He, ICCV 2021, from the MAE authors' group, which the paper compares with
# in Fig. 9): torchvision's ColorJitter(brightness 0.4, contrast 0.4, saturation 0.2, hue 0.1)
# applied with probability 0.8, as MoCo v3's code (main_moco.py, augmentation1) and mmpretrain's
# MoCo v3 config (configs/_base_/datasets/imagenet_bs512_mocov3.py) write it, without MoCo's
# grayscale, blur and solarize. The jitter is torchvision's own, through mmpretrain's torchvision
# wrappers, on the RGB image: mmpretrain's ColorJitter goes through mmcv's adjust_hue, whose
# uint8 hue shift raises OverflowError under numpy >= 2 for a negative shift (torchvision fixed
# the same code in 0.19). Selected as in mae-pretrain-aug_none.py.
pretrain_aug_pipeline = [
    dict(type='DecodeRandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply', prob=0.8, transforms=[
        dict(type='mmpretrain.NumpyToPIL', to_rgb=True),  # mmcv's images are BGR
        dict(type='mmpretrain.torchvision/ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1),
        dict(type='mmpretrain.PILToNumpy', to_bgr=True),
    ]),
    dict(type='mmpretrain.PackInputs'),
]
