# The CPU demo study's pretraining (tools/demo_study.sh): the demo pretraining without its watch
# hooks (the study evaluates every point itself), keeping only its last checkpoint.
_base_ = './mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'

watch_hooks = ('mae_mm.ReconstructionVisHook', 'mae_mm.KNNProbeHook')
custom_hooks = [hook for hook in _base_.custom_hooks if hook.type not in watch_hooks]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
work_dir = 'work_dirs/demo_study/pretrain'
