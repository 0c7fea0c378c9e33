# ViT-B/16's transfer suite: the paper's four benchmarks from one pretraining checkpoint.
#   python tools/transfer.py PRETRAIN.pth --suite configs/suites/vit-base.py --launcher slurm --partition P
# Stage keys as in configs/suites/demo.py; gpus follow each config's name (8xb128: 8 GPUs).
# ImageNet, COCO and ADE20K are read where the configs say (data/imagenet, data/coco, data/ade):
# link your copies there (README, "Transfer benchmarks").
stages = dict(
    pretrain=dict(config='configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.py', train=False,
                  gpus=1, metrics=dict(loss='recon/mse'), select='loss', lower_is_better=True),
    finetune=dict(config='configs/finetune/vit-base-p16_8xb128-coslr-100e_in1k.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    linprobe=dict(config='configs/finetune/vit-base-p16_8xb2048-linprobe-coslr-90e_in1k.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    coco=dict(config='configs/coco/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py', gpus=16,
              metrics=dict(bbox_mAP='coco/bbox_mAP', segm_mAP='coco/segm_mAP'), select='bbox_mAP'),
    ade20k=dict(config='configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py', gpus=8,
                metrics=dict(mIoU='mIoU'), select='mIoU'),
)
cited = dict(
    label='MAE paper, ViT-B/16 (cited)',
    source='He et al., CVPR 2022: Table 3 (fine-tune 83.6), FINETUNE.md of the official code (linear '
           'probe 68.0), Table 4 (COCO Mask R-CNN 50.3 / 44.9), Table 5 (ADE20K UperNet 48.1)',
    finetune=dict(top1=83.6), linprobe=dict(top1=68.0), coco=dict(bbox_mAP=50.3, segm_mAP=44.9),
    ade20k=dict(mIoU=48.1))
