"""Times the train step of a pretraining, fine-tuning, COCO or ADE20K config: img/s and peak memory.

    python tools/benchmark.py CONFIG [--batch N] [--steps K] [--windows W] [--amp bf16|fp16|none]
                                     [--compile] [--fused] [--vs-mmpretrain | --vs-mmseg]
                                     [--data synthetic|jpeg] [--cfg-options KEY=VALUE ...]
    python tools/benchmark.py PRETRAIN_CONFIG --decode-fractions 1.0,0.5,0.25 [--batch N] [--steps K] [--windows W]

One step is the config's whole ``model.train_step`` (data preprocessor, forward, backward,
optimizer step through its optimizer wrapper). The figure is the median over W timed windows
of K steps, after warm-up, with the device synchronised at each window's ends; with
``--vs-mmpretrain`` both models stay resident and their windows alternate, so both see the
same machine state (peak memory is still each model's own, see ``Contender``).
``--data synthetic`` feeds one pre-made uint8 batch already on the device, with the task's labels
(a class per image; a class map of 32 x 32 blocks for UperNet; eight boxes with their masks per
image for Mask R-CNN); ``--data jpeg`` (pretraining and fine-tuning configs)
makes an ImageNet-like mix of JPEGs (mostly 500 x 375 and 375 x 500, some larger, ~117 KB on
average; mae_mm/benchmark/data.py) and runs the config's own train pipeline
through a DataLoader (``--workers``, pinned memory); with a GPU-decode config the workers
only read bytes and the data preprocessor decodes on the device.

Our model runs under the config's optimizer (fused AdamW in the pretraining schedules) and
this package's wrappers: ``AutocastOptimWrapper`` for ``--amp`` (no GradScaler under bf16),
``SkipNonFiniteOptimWrapper`` (formerly ``LeanOptimWrapper``) without. ``--compile`` does what
mmengine's ``compile=True`` does:
``model.train_step = torch.compile(model.train_step)`` (for models that keep mmengine's
default train_step, whose compilation fails inside the optimizer step on torch 2.14, only
``forward`` is compiled; the output says which).

``--vs-mmpretrain`` also times mmpretrain's model at the same size, batch, precision,
optimizer and compile setting (for pretraining configs its MAE; for fine-tuning configs the
same classifier with mmpretrain's VisionTransformer as backbone), under mmengine's own wrapper as an
mmpretrain config has it (``AmpOptimWrapper``, which runs a GradScaler even under bf16), with
``forward`` compiled. ``--vs-mmseg`` does the same for an UperNet config with mmseg's own MAE
backbone (BEiT-style, relative position bias, layer scale 1.0) and ``Feature2Pyramid`` at the
same sizes, under mmseg's ``LayerDecayOptimizerConstructor``. SyncBN is reverted to BN in both, as
mmengine's runner does in one process.
The code: mae_mm/benchmark/step.py (the timing) and mae_mm/benchmark/references.py (mmpretrain's
and mmseg's models).

``--decode-fractions`` times a pretraining config's step with its decoder on each fraction of the
masked patches (``model.decoder.decode_fraction``), one model whose fraction changes between
windows, and counts each step's FLOPs (the whole step's and the decoder's, torch's FlopCounterMode);
it prints one table row per fraction. The code: mae_mm/benchmark/decode_fraction.py.
"""
import argparse
import os

import torch
from mmengine.config import DictAction

from mae_mm.benchmark.decode_fraction import time_decode_fractions
from mae_mm.benchmark.step import Refused, StepOptions, time_train_step
from mae_mm.runtime import setup_runtime


def parse_args():
    """The config and the options, from the command line."""
    default = StepOptions()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, help='images per step (default: the config\'s per-GPU batch)')
    parser.add_argument('--steps', type=int, default=default.steps, help='steps per timed window')
    parser.add_argument('--windows', type=int, default=default.windows, help='timed windows (the median is reported)')
    parser.add_argument('--warmup', type=int, default=default.warmup, help='untimed steps first')
    parser.add_argument('--amp', choices=['bf16', 'fp16', 'none'], default=None,
                        help='autocast dtype (default on CUDA: bf16, fp16 for Mask R-CNN, whose mmcv RoIAlign '
                             'has no bf16 kernel; none on CPU)')
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--fused', action='store_true', help='fused AdamW in both models (pretraining has it)')
    versus = parser.add_mutually_exclusive_group()
    versus.add_argument('--vs-mmpretrain', dest='versus', action='store_const', const='mmpretrain',
                        help='pretraining and fine-tuning configs')
    versus.add_argument('--vs-mmseg', dest='versus', action='store_const', const='mmseg',
                        help='ADE20K UperNet configs')
    parser.add_argument('--data', choices=['synthetic', 'jpeg'], default=default.data)
    parser.add_argument('--workers', type=int, default=default.workers, help='DataLoader workers with --data jpeg')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config keys, as tools/train.py does (e.g. '
                             'train_dataloader.dataset.pipeline.0.reduced_decode=False)')
    parser.add_argument('--decode-fractions', type=fraction_list, metavar='F1,F2,...',
                        help='time and count the FLOPs of a pretraining step at each model.decoder.decode_fraction')
    args = vars(parser.parse_args())
    if args['amp'] not in (None, 'none') and not args['device'].startswith('cuda'):
        parser.error('--amp needs a CUDA device (mmengine\'s AmpOptimWrapper)')
    decode_fractions = args.pop('decode_fractions')
    if decode_fractions and args['cfg_options']:
        parser.error('--cfg-options applies to the train-step timing, not to --decode-fractions')
    return args.pop('config'), StepOptions(**args), decode_fractions


def fraction_list(text):
    """'1.0,0.5,0.25' -> (1.0, 0.5, 0.25)."""
    try:
        return tuple(float(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected comma-separated numbers such as 1.0,0.5,0.25, got {text!r}')


def print_setup(setup):
    print(f'{setup.label}: {setup.wrapper}, {"fused" if setup.fused else "unfused"} {setup.optimizer}, '
          f'compiled: {setup.compiled}')


def print_decode_fractions(config, fractions, options):
    """One table row per decode fraction: the step time, its FLOPs and the decoder's share."""
    import mmengine
    print(f'mmengine {mmengine.__version__}')
    run, figures = time_decode_fractions(config, fractions, options, on_ready=print)
    print(f'median of {run.windows} windows x {run.steps} steps after {run.warmup} warm-up steps per fraction; '
          'FLOPs of one step, forward + backward (matmuls, convolutions, attention)')
    print('| decode_fraction | masked patches decoded | decoder tokens | ms / step | step GFLOPs | '
          'decoder GFLOPs | decoder share | ms vs 1st row | GFLOPs vs 1st row |')
    print('|---|---|---|---|---|---|---|---|---|')
    first = figures[0]
    for f in figures:
        print(f'| {f.fraction:g} | {f.decoded_masked} | {f.decoder_tokens} | {f.step_ms:.1f} | {f.flops / 1e9:.2f} | '
              f'{f.decoder_flops / 1e9:.2f} | {f.decoder_share:.1%} | {f.step_ms / first.step_ms:.2f} | '
              f'{f.flops / first.flops:.2f} |')


def main():
    setup_runtime()
    config, options, decode_fractions = parse_args()
    cuda = options.device.startswith('cuda')
    print(f'torch {torch.__version__}, device {options.device}'
          + (f' ({torch.cuda.get_device_name()})' if cuda else f' ({os.cpu_count()} cores)'))
    if decode_fractions:
        try:
            print_decode_fractions(config, decode_fractions, options)
        except Refused as err:
            raise SystemExit(str(err))
        return
    try:
        result = time_train_step(config, options, on_ready=print_setup)
    except Refused as err:
        raise SystemExit(str(err))
    run = result.options
    for timing in result.timings:
        rate = timing.img_s
        shown = f'{rate:.1f}' if rate >= 1 else f'{rate:.3f}'
        print(f'{timing.setup.label}: {shown} img/s (median of {run.windows} x {run.steps} steps, batch {run.batch}, '
              f'amp {run.amp}, compile {run.compile}, data {run.data}), {timing.memory}')
    if result.ratio is not None:
        print(f'ratio mae_mm / {run.versus}: {result.ratio:.3f}')


if __name__ == '__main__':
    main()
