# The paper's pretraining optimiser: AdamW (0.9, 0.95), wd 0.05 except on biases and norms
# (the 1-D parameters), lr = 1.5e-4 x total batch / 256, 40 warmup epochs, then cosine to 0 at
# the run's end, stepped every iteration. bf16 autocast (no loss scaling) where a GPU exists; plain fp32
# elsewhere. fused=True: torch's single-kernel AdamW (CUDA and CPU since torch 2.4).
# Not matched, argued: the official code runs fp16 with a GradScaler; bf16 has fp32's exponent
# range and needs no scaling (--amp fp16 restores fp16 + a dynamic scaler). Its warmup starts at
# lr 0; mmengine's LinearLR divides by start_factor (0 raises ZeroDivisionError), so it starts
# at 1e-4 of the lr, at most 1e-4 of the lr away from the official ramp at any iteration.
optim_wrapper = dict(
    type='build_amp_optim_wrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.95), weight_decay=0.05, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
)

# The cosine states no `end`: mmengine's Runner sets it to train_cfg.max_epochs, so a leaf (or
# --cfg-options train_cfg.max_epochs=N) that changes the length alone gets the same schedule over
# N epochs, the 40 warmup epochs kept (the paper's Fig. 7 schedule-length study). tools/train.py
# refuses a schedule that does not fit its length (mae_mm/launch/schedule_checks.py).
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=40, convert_to_iter_based=True),
]

train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=800)  # resumes mid-epoch exactly

# The lr above is per 256 images; mmengine rescales it to the real total batch (world size x
# batch_size; tools/train.py makes it count optim_wrapper.accumulative_counts too, as the
# official code's accum_iter: mae_mm/launch/config_checks.py).
auto_scale_lr = dict(base_batch_size=256, enable=True)
