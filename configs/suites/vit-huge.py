# ViT-H/14's transfer suite (stage keys as in configs/suites/demo.py). The MAE paper has no ViT-H
# COCO or ADE20K entry: COCO is cited from ViTDet, ADE20K has no cited figure.
_base_ = './vit-base.py'
stages = dict(
    pretrain=dict(config='configs/pretrain/mae_vit-huge-p14_8xb512-amp-coslr-1600e_in1k.py'),
    finetune=dict(config='configs/finetune/vit-huge-p14_8xb128-coslr-50e_in1k.py'),
    linprobe=dict(config='configs/finetune/vit-huge-p14_8xb2048-linprobe-coslr-90e_in1k.py'),
    coco=dict(config='configs/coco/mask-rcnn_vit-huge-p14_16xb4-amp-lsj-75e_coco.py'),
    ade20k=dict(config='configs/ade20k/upernet_vit-huge-p14_8xb2-amp-160k_ade20k-512x512.py'),
)
cited = dict(
    _delete_=True,
    label='MAE paper, ViT-H/14 (cited)',
    source='He et al., CVPR 2022: Table 3 (fine-tune at 224: 86.9), FINETUNE.md of the official code '
           '(linear probe 76.6); Li et al., ECCV 2022 (ViTDet), Mask R-CNN with MAE ViT-H: 56.7 / 50.2 (as cited in configs/coco/)',
    finetune=dict(top1=86.9), linprobe=dict(top1=76.6), coco=dict(bbox_mAP=56.7, segm_mAP=50.2))
