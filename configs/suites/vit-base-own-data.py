# ViT-B/16's transfer suite on your own data (README "Your own data"): the paper's recipes on your
# folders, in the same results table (and random-init row: --random-init) as the ImageNet suites.
# Copy this file, point each stage's data_root at your folder (its layout: README), drop the
# stages you have no data for:
#   python tools/transfer.py PRETRAIN.pth --suite my_suite.py --launcher slurm --partition P
# pretrain: the checkpoint's reconstruction loss on the 1% of the pretraining images held out by
# the pretraining config (the same hash of each path, so the same images it never trained on).
stages = dict(
    pretrain=dict(config='configs/own_data/mae_vit-base-p16_8xb512-amp-coslr-800e_own-data.py', train=False,
                  gpus=1, data_root='data/own/photos', metrics=dict(loss='recon/mse'), select='loss',
                  lower_is_better=True),
    finetune=dict(config='configs/own_data/vit-base-p16_8xb128-coslr-100e_own-data.py', gpus=8,
                  data_root='data/own/classification', metrics=dict(top1='accuracy/top1'), select='top1'),
    linprobe=dict(config='configs/own_data/vit-base-p16_8xb2048-linprobe-coslr-90e_own-data.py', gpus=8,
                  data_root='data/own/classification', metrics=dict(top1='accuracy/top1'), select='top1'),
    detection=dict(config='configs/own_data/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_own-data.py', gpus=16,
                   data_root='data/own/coco', metrics=dict(bbox_mAP='coco/bbox_mAP', segm_mAP='coco/segm_mAP'),
                   select='bbox_mAP'),
    segmentation=dict(config='configs/own_data/upernet_vit-base-p16_8xb2-amp-160k_own-data-512x512.py', gpus=8,
                      data_root='data/own/segmentation', metrics=dict(mIoU='mIoU'), select='mIoU'),
)
