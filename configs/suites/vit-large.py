# ViT-L/16's transfer suite (stage keys as in configs/suites/demo.py).
_base_ = './vit-base.py'
stages = dict(
    pretrain=dict(config='configs/pretrain/mae_vit-large-p16_8xb512-amp-coslr-1600e_in1k.py'),
    finetune=dict(config='configs/finetune/vit-large-p16_8xb128-coslr-50e_in1k.py'),
    linprobe=dict(config='configs/finetune/vit-large-p16_8xb2048-linprobe-coslr-90e_in1k.py'),
    coco=dict(config='configs/coco/mask-rcnn_vit-large-p16_16xb4-amp-lsj-100e_coco.py'),
    ade20k=dict(config='configs/ade20k/upernet_vit-large-p16_8xb2-amp-160k_ade20k-512x512.py'),
)
cited = dict(
    _delete_=True,
    label='MAE paper, ViT-L/16 (cited)',
    source='He et al., CVPR 2022: Table 3 (fine-tune 85.9), FINETUNE.md of the official code (linear '
           'probe 75.8), Table 4 (COCO Mask R-CNN 53.3 / 47.2), Table 5 (ADE20K UperNet 53.6)',
    finetune=dict(top1=85.9), linprobe=dict(top1=75.8), coco=dict(bbox_mAP=53.3, segm_mAP=47.2),
    ade20k=dict(mIoU=53.6))
