# Linear probing of an MAE ViT-B/16 on your own labelled images: the ImageNet recipe on
# DIR/train/<class>/ and DIR/val/<class>/ (README "Your own data"). The recipe's batch (16,384
# over 8 GPUs) needs at least that many training images: lower train_dataloader.batch_size on a
# smaller set (the lr follows it: auto_scale_lr).
#   python tools/train.py configs/own_data/vit-base-p16_8xb2048-linprobe-coslr-90e_own-data.py --data-root DIR \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = '../finetune/vit-base-p16_8xb2048-linprobe-coslr-90e_in1k.py'

own_data = dict()
data_root = None  # --data-root DIR, or set it in a config that inherits this one
