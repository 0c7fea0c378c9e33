# UperNet on an MAE ViT-B/16 with your own label maps: the ADE20K recipe on
# DIR/images/{train,val}/, DIR/annotations/{train,val}/*.png (0..N-1, 255 ignored) and
# DIR/classes.txt (README "Your own data"). The heads follow the class list. ADE20K's 160k
# iterations at batch 16 are 127 passes over its 20,210 training images; own_data.epochs keeps the
# passes (train_cfg.max_iters follows your set; the schedule follows it).
#   python tools/train.py configs/own_data/upernet_vit-base-p16_8xb2-amp-160k_own-data-512x512.py --data-root DIR \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = '../ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

own_data = dict(epochs=127)
data_root = None  # --data-root DIR, or set it in a config that inherits this one
