# Hooks every training config carries, whichever toolbox's runtime it inherits:
# - RandomStateHook: the python/numpy/torch/CUDA generator states go into each checkpoint and
#   come back on --resume, so a resumed run continues the uninterrupted run's random streams;
# - CheckpointMatchHook: a load_from / resume checkpoint that does not fit the model stops the
#   run before training, naming each key and both shapes;
# - NonFiniteLossHook: a NaN/inf loss stops the run naming the iteration and the loss terms
#   (on_nonfinite='skip' skips such steps instead);
# - SkippedImagesHook: counts and reports the bad images LoadCheckedImage(on_error='skip')
#   skipped, from every data-loader worker (message hub 'skipped_images', the log, scalars).
# (Checkpoints are also written atomically: mae_mm/engine/atomic_backend.py.)
custom_hooks = [
    dict(type='mae_mm.RandomStateHook'),
    dict(type='mae_mm.CheckpointMatchHook'),
    dict(type='mae_mm.NonFiniteLossHook', on_nonfinite='stop'),
    dict(type='mae_mm.SkippedImagesHook'),
]
