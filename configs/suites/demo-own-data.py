# The CPU demo of a transfer suite on "your own data" (python tools/make_demo_data.py --own-data):
# the reconstruction loss on the held-out quarter of a folder of photos, fine-tuning on three
# class folders, Mask R-CNN on a two-category COCO-format set, UperNet on three-class label maps.
#   python tools/transfer.py work_dirs/demo/own-data/pretrain/epoch_40.pth \
#       --suite configs/suites/demo-own-data.py --work-dir work_dirs/demo/own-data/suite
# A stage's data_root (made absolute from the current directory) is given to its config, which
# must read own data (an own_data block: configs/own_data/, README "Your own data"); the demo
# configs name the same folders themselves.
stages = dict(
    pretrain=dict(config='configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-own-data-pretrain.py', train=False,
                  data_root='data/demo/own/photos', metrics=dict(loss='recon/mse'), select='loss',
                  lower_is_better=True),
    finetune=dict(config='configs/demo/vit-tiny-p8_1xb32-coslr-5e_demo-own-data-finetune.py',
                  data_root='data/demo/own/classification', metrics=dict(top1='accuracy/top1'), select='top1'),
    detection=dict(config='configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-6e_demo-own-data.py',
                   data_root='data/demo/own/coco', metrics=dict(bbox_mAP='coco/bbox_mAP', segm_mAP='coco/segm_mAP'),
                   select='bbox_mAP'),
    segmentation=dict(config='configs/demo/upernet_vit-tiny-p8_1xb8-6e_demo-own-data-64x64.py',
                      data_root='data/demo/own/segmentation', metrics=dict(mIoU='mIoU'), select='mIoU'),
)
