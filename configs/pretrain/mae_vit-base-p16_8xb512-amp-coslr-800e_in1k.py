_base_ = [
    '../_base_/models/mae_vit-base-p16.py',
    '../_base_/datasets/imagenet_mae-pretrain.py',
    '../_base_/schedules/mae_adamw-coslr-800e.py',
    '../_base_/default_runtime.py',
]
