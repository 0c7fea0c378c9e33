# Runtime shared by every task: our registry scope, mmengine's default hooks and local visualiser.
_base_ = ['./reliability.py']

default_scope = 'mae_mm'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    # iteration-based schedules move once per optimizer step, so gradient accumulation does not
    # shift the lr (mae_mm/engine/optimizer_step_scheduler_hook.py); mmengine's hook without it
    param_scheduler=dict(type='mae_mm.OptimizerStepParamSchedulerHook'),
    # atomic writes (mae_mm/engine/atomic_backend.py): a run killed while saving keeps the old file;
    # mmengine's CheckpointHook that removes the old checkpoint only once the new one is written
    # (mae_mm/engine/checkpoint_hook.py): a full disk or a kill never leaves the run without one
    checkpoint=dict(type='mae_mm.WriteFirstCheckpointHook', interval=1, max_keep_ckpts=3,
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # timeout: seconds a collective waits for a peer that stopped answering (a powered-off node)
    # before the run ends with exit 69 naming the loss and the newest checkpoint; a peer whose
    # process died is noticed at once. torch's defaults: 30 min (gloo), 10 min (NCCL). The longest
    # legitimate one-sided wait sets the floor: the other ranks wait while rank 0 alone writes a
    # checkpoint (ViT-H with AdamW states, ~7.5 GB: 2.5 min at 50 MB/s) or computes a metric
    # (COCO bbox+segm on val2017: a few minutes), or while evaluation batches end unevenly. 600 s
    # leaves 2x headroom over those; raise it for slower storage, lower it to notice losses sooner.
    dist_cfg=dict(backend='nccl', timeout=600),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10, by_epoch=True)
log_level = 'INFO'

load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True)
