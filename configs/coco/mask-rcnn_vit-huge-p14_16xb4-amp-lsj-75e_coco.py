# Mask R-CNN on the MAE-pretrained ViT-H/14, COCO (ViTDet: 56.7 box AP / 50.2 mask AP cited):
# the ViT-B recipe with 16 x 16 patches (the checkpoint's 14 x 14 projection is interpolated when
# loaded), global attention in blocks 7, 15, 23, 31, drop path 0.5, layer decay 0.9, weight decay
# on every parameter, and 75 epochs: iterations and lr steps x 0.75, as ViTDet.
_base_ = './mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

vit = _base_.vit_sizes.huge_p14
model = dict(
    backbone=dict(
        arch=vit.arch, patch_size=16, global_blocks=(7, 15, 23, 31), drop_path_rate=0.5,
        init_cfg=dict(checkpoint=vit.mae_checkpoint)),
    neck=dict(in_channels=vit.embed_dim))
# Weight decay on everything, norms and pos_embed included: detectron2's mask_rcnn_vitdet_h_75ep.py
# (cited) sets optimizer.params.overrides = {} and weight_decay_norm = None, dropping the B/L
# configs' exemptions (pos_embed, and the norms through common/optim.py's weight_decay_norm=0.0).
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.9, no_decay=()))

# 75 epochs: the lr steps follow (122,916 and 133,159)
train_cfg = dict(max_iters=184375 * 3 // 4)  # 138,281
