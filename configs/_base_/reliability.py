# Hooks every training config carries, whichever toolbox's runtime it inherits:
# - RandomStateHook: the python/numpy/torch/CUDA generator states go into each checkpoint and
#   come back on --resume, so a resumed run continues the uninterrupted run's random streams;
# - CheckpointMatchHook: a load_from / resume checkpoint that does not fit the model stops the
#   run before training, naming each key and both shapes;
# - NonFiniteLossHook: a NaN/inf loss stops the run naming the iteration and the loss terms
#   (on_nonfinite='skip' skips such steps instead);
# - SkippedImagesHook: counts and reports the bad images LoadCheckedImage(on_error='skip')
#   skipped, from every data-loader worker (message hub 'skipped_images', the log, scalars);
# - SaveOnSignalHook: on SIGTERM / SIGUSR1 (preemption, Slurm's --signal before the time limit)
#   the run saves the iteration it is at and exits with 75 (preempted, resumable with --resume);
# - DataPositionHook: each checkpoint records the epoch and the samples of it already consumed (over
#   all processes), so a resume starts the sampler there (mae_mm.ResumableSampler: nothing trained is
#   loaded again); the training pipeline's random draws are seeded per sample by (seed, epoch, index),
#   the same whatever the number of workers or processes (epoch-based loops);
# - ScheduleResumeCheckHook: a --resume whose checkpoint's lr schedule spans another length than
#   train_cfg's (mmengine restores begin/end/T_max/milestones) stops before training, naming both.
# Epoch-based configs train with mae_mm.ResumableEpochBasedTrainLoop, which resumes in the middle
# of an epoch exactly; iteration-based ones with mae_mm.ResumableIterBasedTrainLoop; both roll back
# on NonFiniteLossHook(on_nonfinite='rollback').
# Checkpoints are written atomically where a runtime base selects mae_mm's backend
# (default_hooks.checkpoint.backend_args=dict(backend='atomic_local'): ours, the COCO and the ADE20K
# bases; mae_mm/engine/atomic_backend.py).
# mae_mm.runtime: the process-wide adjustments a run needs (torch >= 2.6 loads mmengine's checkpoints;
# mmpretrain imports under transformers 5), made when the config is loaded. A config that sets its
# own custom_imports restates this list (mmengine replaces lists whole); tests/test_import_side_effects.py
# checks every config.
custom_imports = dict(imports=['mae_mm.runtime'], allow_failed_imports=False)
custom_hooks = [
    dict(type='mae_mm.RandomStateHook'),
    dict(type='mae_mm.CheckpointMatchHook'),
    dict(type='mae_mm.NonFiniteLossHook', on_nonfinite='stop'),
    dict(type='mae_mm.SkippedImagesHook'),
    dict(type='mae_mm.SaveOnSignalHook', signals=('SIGTERM', 'SIGUSR1')),
    dict(type='mae_mm.ScheduleResumeCheckHook'),
    dict(type='mae_mm.DataPositionHook', per_sample_augmentation=True),
]
