"""Before/after timings of each speed lever of the MAE train step, one at a time.

    python tools/benchmark_levers.py [--arch base] [--batch 8] [--repeats 5] [--device cpu|cuda]

Each line times one lever off and on, on the same model, weights and inputs: masking,
attention, adamw, checkpointing, grad scaler (CUDA only); what each compares and how it is timed
is in mae_mm/benchmark/levers.py. torch.compile is timed by tools/benchmark.py --compile.
The code: mae_mm/benchmark/levers.py.
"""
import argparse

import torch

from mae_mm.benchmark.levers import time_levers
from mae_mm.runtime import setup_runtime


def main():
    setup_runtime()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--arch', default='base')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    print(f'torch {torch.__version__}, {args.device}, ViT-{args.arch}/16 MAE, batch {args.batch}, 224 px, '
          'float32 unless said')
    print('| lever | off | on | off / on |\n|---|---|---|---|')
    for lever in time_levers(args.arch, args.batch, args.repeats, args.device):
        if lever.off is None:
            print(f'| {lever.name} | needs CUDA | | |')
        else:
            print(f'| {lever.name} | {lever.off:.2f} {lever.unit} | {lever.on:.2f} {lever.unit} | {lever.gain:.2f}x |')


if __name__ == '__main__':
    main()
