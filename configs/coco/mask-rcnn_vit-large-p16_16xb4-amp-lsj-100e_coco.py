# Mask R-CNN on the MAE-pretrained ViT-L/16, COCO (ViTDet: 55.5 box AP / 49.2 mask AP cited):
# the ViT-B recipe with global attention in blocks 5, 11, 17, 23, drop path 0.4, layer decay 0.8.
_base_ = './mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

vit = _base_.vit_sizes.large_p16
model = dict(
    backbone=dict(
        arch=vit.arch, global_blocks=(5, 11, 17, 23), drop_path_rate=0.4,
        init_cfg=dict(checkpoint=vit.mae_checkpoint)),
    neck=dict(in_channels=vit.embed_dim))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
