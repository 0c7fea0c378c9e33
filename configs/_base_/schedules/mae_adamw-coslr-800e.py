# The paper's pretraining optimiser: AdamW (0.9, 0.95), wd 0.05 except on biases and norms
# (the 1-D parameters), lr = 1.5e-4 x total batch / 256, 40 warmup epochs, then cosine to 0,
# stepped every iteration. bf16 autocast (no loss scaling) where a GPU exists; plain fp32
# elsewhere. fused=True: torch's single-kernel AdamW (CUDA and CPU since torch 2.4).
optim_wrapper = dict(
    type='build_amp_optim_wrapper',
    dtype='bfloat16',
    optimizer=dict(type='AdamW', lr=1.5e-4, betas=(0.9, 0.95), weight_decay=0.05, fused=True),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
)

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=40, end=800,
         convert_to_iter_based=True),
]

train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=800)  # resumes mid-epoch exactly

# The lr above is per 256 images; mmengine rescales it to the real total batch.
auto_scale_lr = dict(base_batch_size=256, enable=True)
