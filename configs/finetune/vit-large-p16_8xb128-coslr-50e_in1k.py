# MAE ViT-L/16 fine-tuning (85.9 top-1 cited): blr 1e-3, layer decay 0.75, drop path 0.2, 50 epochs.
_base_ = './vit-base-p16_8xb128-coslr-100e_in1k.py'

vit = _base_.vit_sizes.large_p16
model = dict(
    backbone=dict(arch=vit.arch, drop_path_rate=0.2, init_cfg=dict(
        checkpoint=vit.mae_checkpoint)),
    head=dict(in_channels=vit.embed_dim))
blr = 1e-3
optim_wrapper = dict(optimizer=dict(lr=blr), paramwise_cfg=dict(layer_decay_rate=0.75))
# the cosine's floor (1e-6) as a ratio of this lr
param_scheduler = [_base_.param_scheduler[0],
                   dict(_base_.param_scheduler[1], eta_min_ratio=1e-6 / (blr * 1024 / 256))]
train_cfg = dict(max_epochs=50)
