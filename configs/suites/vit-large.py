# ViT-L/16's transfer suite (stage keys as in configs/suites/demo.py).
_base_ = './vit-base.py'
stages = dict(
    pretrain=dict(config='configs/pretrain/mae_vit-large-p16_8xb512-amp-coslr-1600e_in1k.py'),
    finetune=dict(config='configs/finetune/vit-large-p16_8xb128-coslr-50e_in1k.py'),
    linprobe=dict(config='configs/finetune/vit-large-p16_8xb2048-linprobe-coslr-90e_in1k.py'),
    # the paper's Fig. 9: the last block trained; sweep the number with
    # --sweep partial:model.backbone.trainable_blocks=0,1,2,4,6,12,18,24
    partial=dict(config='configs/finetune/vit-large-p16_8xb128-partial-last1blk-coslr-50e_in1k.py', gpus=8,
                 metrics=dict(top1='accuracy/top1'), select='top1'),
    coco=dict(config='configs/coco/mask-rcnn_vit-large-p16_16xb4-amp-lsj-100e_coco.py'),
    ade20k=dict(config='configs/ade20k/upernet_vit-large-p16_8xb2-amp-160k_ade20k-512x512.py'),
)
cited = dict(
    _delete_=True,
    label='MAE paper, ViT-L/16 (cited)',
    source='He et al., CVPR 2022: Table 3 (fine-tune 85.9), FINETUNE.md of the official code (linear '
           'probe 75.8), Fig. 9 (partial fine-tuning of the last block 81.0), Table 4 (COCO Mask R-CNN '
           '53.3 / 47.2), Table 5 (ADE20K UperNet 53.6)',
    finetune=dict(top1=85.9), linprobe=dict(top1=75.8), partial=dict(top1=81.0),
    coco=dict(bbox_mAP=53.3, segm_mAP=47.2), ade20k=dict(mIoU=53.6))
