# Fine-tuning an MAE ViT-B/16 on your own labelled images: the ImageNet recipe on
# DIR/train/<class>/ and DIR/val/<class>/ (README "Your own data"). The head, mixup/cutmix and
# metrics follow the class folders (top-5 only with at least 5 classes).
#   python tools/train.py configs/own_data/vit-base-p16_8xb128-coslr-100e_own-data.py --data-root DIR \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = '../finetune/vit-base-p16_8xb128-coslr-100e_in1k.py'

own_data = dict()
data_root = None  # --data-root DIR, or set it in a config that inherits this one
