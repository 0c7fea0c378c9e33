# Mask R-CNN on an MAE ViT-B/16 with your own COCO-format set: ViTDet's COCO recipe on
# DIR/annotations/{train,val}.json and DIR/{train,val}/ (README "Your own data"). The heads
# follow the files' categories; the metrics add an AP per category. The recipe's 100 epochs carry
# over as passes over your training images (own_data.epochs sets train_cfg.max_iters; the
# schedule follows it).
#   python tools/train.py configs/own_data/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_own-data.py --data-root DIR \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = '../coco/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

own_data = dict(epochs=100)
data_root = None  # --data-root DIR, or set it in a config that inherits this one
