# UperNet on the MAE-pretrained ViT-L/16 (the MAE paper's Table 5: 53.6 mIoU); the ViT-B recipe
# with ViT-L's layer decay and drop path.
_base_ = './upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

vit = _base_.vit_sizes.large_p16
model = dict(
    backbone=dict(
        arch=vit.arch,
        out_indices=(7, 11, 15, 23),
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint=vit.mae_checkpoint)),
    neck=dict(embed_dim=vit.embed_dim),
    decode_head=dict(in_channels=[vit.embed_dim] * 4, channels=1024),
    auxiliary_head=dict(in_channels=vit.embed_dim))

# No official MAE-L segmentation config exists (the paper searched the lr per entry and
# published none of them). Chosen here, with the references (cited):
# - layer decay 0.8: detectron2's ViTDet ViT-L (mask_rcnn_vitdet_l_100ep.py), the MAE-L dense
#   transfer nearest to this one. It is also ViT-B's 0.65 stretched over 24 blocks
#   (0.65^(12/24) = 0.806): block 0's lr scale is 0.8^24 = 4.7e-3, near ViT-B's 0.65^12 = 5.7e-3,
#   where ViT-B's 0.65 over 24 blocks would give 3e-5 and leave the early blocks untrained.
#   Other references: MAE FINETUNE.md's 0.75 for ImageNet (block 0: 1.0e-3) and mmseg's BEiT-L
#   UperNet's 0.95 (with lr 2e-5, a flatter profile at a lower lr).
# - drop path 0.2: MAE FINETUNE.md's ViT-L value, also mmseg's BEiT-L UperNet on ADE20K.
#   ViTDet's 0.4 goes with COCO's 184k iterations at batch 64, 4.6x the images of 160k x 16.
# - lr 1e-4 (the ViT-B value, kept): ViTDet keeps 1e-4 from B to H and lets the decay adapt.
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
