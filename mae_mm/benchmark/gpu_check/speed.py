"""Rows 3-9: train-step rates through the benchmark library (:mod:`mae_mm.benchmark.step`), ours
against the reference toolbox's in one process; under ``--smoke`` at toy sizes (batch 2, one timed
step, no compile, fp32)."""
import dataclasses
import os
import os.path as osp

from .. import ROOT
from .configs import (DEMO_ADE20K, DEMO_COCO, DEMO_FINETUNE, DEMO_PRETRAIN, FINETUNE_B, MASK_RCNN_B, PRETRAIN_B,
                      PRETRAIN_B_GPU_DECODE, PRETRAIN_L, TOY_GPU_DECODE_PIPELINE, TOY_PRETRAIN, UPERNET_B)
from .parts import Context, attempt, free_memory, part

# how a row times: --smoke at toy cost on the CPU (fp32, eager); on the GPU 3 windows of 5 steps
SMOKE_TIMING = dict(batch=2, steps=1, windows=1, warmup=1, compile=False, amp=None)
GPU_TIMING = dict(steps=5, windows=3, warmup=2)


def benchmark(ctx: Context, name: str, config: str, batch: int, **options) -> dict:
    """One train-step timing (:class:`~mae_mm.benchmark.step.StepOptions` ``options``) as a part:
    each contender's rate and memory, the ratio, and the ``tools/benchmark.py`` command that repeats it."""
    from mae_mm.benchmark.step import StepOptions, time_train_step
    options = StepOptions(batch=batch, device=ctx.device, **options)
    options = dataclasses.replace(options, **(SMOKE_TIMING if ctx.smoke else GPU_TIMING))
    try:
        result = time_train_step(osp.join(ROOT, config), options)
    finally:
        free_memory(ctx)
    rates = {t.setup.label: dict(img_s=t.img_s, memory=t.memory) for t in result.timings}
    shown = [f'{t.setup.label} {t.img_s:,.1f} img/s ({t.memory}, compiled: {t.setup.compiled})'
             for t in result.timings]
    command = ' '.join(['python tools/benchmark.py', config, *options.cli_args()]).replace(ROOT + '/', '')
    figures = dict(rates=rates, command=command)
    if result.ratio is not None:
        figures['ratio'] = result.ratio
        shown.append(f'ratio {result.ratio:.3f}')
    return part(name, True, f'{name}: ' + ', '.join(shown), **figures)


def attempt_benchmark(ctx: Context, name: str, config: str, batch: int, **options) -> dict:
    """:func:`benchmark`'s part, or a failed one naming the error."""
    return attempt(name, lambda: benchmark(ctx, name, config, batch, **options))


def row_mae_b(ctx: Context):
    config = ctx.config(PRETRAIN_B, None, TOY_PRETRAIN)
    yield attempt_benchmark(ctx, 'vit-b/16 b512 compiled', config, 512, compile=True, versus='mmpretrain')


def row_mae_l(ctx: Context):
    config = ctx.config(PRETRAIN_L, None, TOY_PRETRAIN)
    yield attempt_benchmark(ctx, 'vit-l/16 b256 compiled', config, 256, compile=True, versus='mmpretrain')


def row_finetune_b(ctx: Context):
    config = ctx.config(FINETUNE_B, DEMO_FINETUNE)
    yield attempt_benchmark(ctx, 'vit-b/16 fine-tune b256 compiled', config, 256, compile=True, fused=True,
                            versus='mmpretrain')


def row_mask_rcnn_b(ctx: Context):
    config = ctx.config(MASK_RCNN_B, DEMO_COCO)
    yield attempt_benchmark(ctx, 'mask r-cnn vit-b 1024 fp16', config, 4, amp='fp16')


def row_upernet_b(ctx: Context):
    config = ctx.config(UPERNET_B, DEMO_ADE20K)
    yield attempt_benchmark(ctx, 'upernet vit-b 512 bf16', config, 4, amp='bf16', versus='mmseg')


def row_jpeg(ctx: Context):
    """The ViT-B step fed by the JPEG pipeline with CPU decode (one worker per core) and with GPU
    decode, each against the synthetic rate of row 3 (measured here if row 3 gave none)."""
    synthetic = next((p['rates']['mae_mm']['img_s'] for p in ctx.earlier.get('mae_vit-b', []) if p.get('rates')),
                     None)
    config = ctx.config(PRETRAIN_B, DEMO_PRETRAIN)
    decode_config = ctx.config(PRETRAIN_B_GPU_DECODE, None, TOY_PRETRAIN + TOY_GPU_DECODE_PIPELINE)
    if synthetic is None or ctx.smoke:  # row 3 did not run (or is not comparable): measure it here
        found = attempt_benchmark(ctx, 'synthetic', config, 512, compile=True)
        yield found
        synthetic = found.get('rates', {}).get('mae_mm', {}).get('img_s')

    def fed(name, cfg, workers):
        got = benchmark(ctx, name, cfg, 512, compile=True, data='jpeg', workers=workers)
        rate = got['rates']['mae_mm']['img_s']
        if synthetic:
            got['of_synthetic'] = rate / synthetic
            got['summary'] += f', {100 * rate / synthetic:.0f}% of the synthetic {synthetic:,.1f} img/s'
        return got

    for decode, cfg, workers in [('cpu', config, 0 if ctx.smoke else os.cpu_count()),
                                 ('gpu', decode_config, 0 if ctx.smoke else 4)]:
        name = f'{decode} decode, {workers} workers'
        yield attempt(name, lambda: fed(name, cfg, workers))


def row_eager(ctx: Context):
    """Rows 3-5 without torch.compile."""
    for name, config, smoke, batch, options in [
            ('vit-b/16 b512 eager', PRETRAIN_B, None, 512, dict(versus='mmpretrain')),
            ('vit-l/16 b256 eager', PRETRAIN_L, None, 256, dict(versus='mmpretrain')),
            ('vit-b/16 fine-tune b256 eager', FINETUNE_B, DEMO_FINETUNE, 256, dict(fused=True, versus='mmpretrain'))]:
        config = ctx.config(config, smoke, TOY_PRETRAIN if smoke is None else None)
        yield attempt_benchmark(ctx, name, config, batch, **options)
