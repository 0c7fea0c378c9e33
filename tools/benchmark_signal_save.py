"""How long a save on a signal takes: the figure to choose Slurm's ``--signal`` lead time from.

    python tools/benchmark_signal_save.py CONFIG [CONFIG ...] [--out-dir DIR] [--repeats 3]

For each (pretraining) config it builds the model, takes one AdamW step so the optimizer holds
its moments, then times what :class:`~mae_mm.engine.preemption.SaveOnSignalHook` does on a
signal: the weights and optimizer state copied to the CPU and written as one mmengine
checkpoint through the atomic backend (temporary file, fsync, rename). It prints the median
time and the file size. On a GPU machine add the copy of the weights off the GPU (included
here when CUDA is there); on a cluster the file system's write speed dominates.
The code: mae_mm/benchmark/signal_save.py.
"""
import argparse
import os.path as osp
import statistics
import tempfile

from mae_mm.benchmark.signal_save import time_signal_save
from mae_mm.runtime import setup_runtime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--out-dir', help='where the checkpoints are written (default: a temporary folder)')
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    setup_runtime()
    out_dir = args.out_dir or tempfile.mkdtemp(prefix='signal_save_')
    for config in args.configs:
        save = time_signal_save(config, out_dir, args.repeats)
        print(f'{osp.basename(config)}: {save.params / 1e6:.1f}M parameters, checkpoint '
              f'{save.checkpoint_bytes / 2 ** 20:.0f} MiB, save on a signal {statistics.median(save.seconds):.2f} s '
              f'(median of {args.repeats}; {", ".join(f"{t:.2f}" for t in save.seconds)})')


if __name__ == '__main__':
    main()
