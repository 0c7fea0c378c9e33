# The CPU demo study's pretraining (tools/demo_study.sh): the demo pretraining, 200 epochs instead of
# 40 (the schedule follows: 4 warmup epochs, then the cosine to the end), without its watch hooks
# (the study evaluates every point itself), keeping only its last checkpoint. At 40 epochs the
# transfers were no better than from random init (README, "The demo study").
_base_ = './mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'

train_cfg = dict(max_epochs=200, val_interval=50)
watch_hooks = ('mae_mm.ReconstructionVisHook', 'mae_mm.KNNProbeHook')
custom_hooks = [hook for hook in _base_.custom_hooks if hook.type not in watch_hooks]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
work_dir = 'work_dirs/demo_study/pretrain'
