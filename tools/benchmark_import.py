"""Times what every tool pays before it does anything: ``import mae_mm`` and ``tools/train.py --help``.

    python tools/benchmark_import.py [--repeats 7] [--other /tmp/before]

Each command runs in a fresh interpreter (after one untimed warm-up run, so that both trees see
warm file caches), from the tree's root with the tree first on ``PYTHONPATH``; the median and the
minimum wall time of ``--repeats`` runs are printed, with the toolboxes a bare ``import mae_mm``
loads. ``--other`` times a second checkout (e.g. the code before a change) the same way.
The code: mae_mm/benchmark/imports.py.
"""
import argparse
import os
import os.path as osp
import statistics

from mae_mm.benchmark import ROOT
from mae_mm.benchmark.imports import COMMANDS, probe, wall_times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--other', help='a second tree to time the same way (e.g. the code before a change)')
    args = parser.parse_args()
    trees = [('this tree', ROOT)] + ([('other', osp.abspath(args.other))] if args.other else [])
    print(f'{args.repeats} runs each, median (min) wall seconds; threads: '
          f'OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "unset")}')
    for label, tree in trees:
        print(f'{label} ({tree}): import mae_mm loads {probe(tree) or "no toolbox"}')
        for name, cmd in COMMANDS.items():
            times = wall_times(tree, cmd, args.repeats)
            print(f'  {name:32s} {statistics.median(times):6.2f} s ({min(times):.2f})')


if __name__ == '__main__':
    main()
