# MAE pretraining of a ViT-B/16 on your own images: the ImageNet recipe (800 epochs at batch 4096)
# on every image under DIR, at any depth (README "Your own data"); 1% of them, chosen by a hash of
# each path, held out for the masked reconstruction metric (validated every epoch; tools/test.py).
#   python tools/train.py configs/own_data/mae_vit-base-p16_8xb512-amp-coslr-800e_own-data.py --data-root DIR
# Every pretraining config takes --data-root DIR as well (none held out unless
# --cfg-options own_data.val_fraction=F). On a few thousand images, lower the batch
# (train_dataloader.batch_size) and lengthen the run (train_cfg.max_epochs) to keep the steps.
_base_ = '../pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'

own_data = dict(val_fraction=0.01)
data_root = None  # --data-root DIR, or set it in a config that inherits this one
