"""Times tools/transfer.py's own overhead on a finished suite run or study: ``--status``, a re-run
of the same command (nothing left to run), and (a suite run) the checkpoint's sha256 uncached
against cached.

    python tools/benchmark_transfer.py WORK_DIR [--repeat 5]

WORK_DIR is a suite run whose stages have all ended (e.g. work_dirs/demo after tools/demo.sh), or
a finished study (work_dirs/demo_study after tools/demo_study.sh).
Prints the median wall time of each, in seconds, as processes started from this one
(the measurement: mae_mm/suite/overhead.py).
"""
import argparse
import os.path as osp

from mae_mm.suite.overhead import measure_overhead

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir')
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    t = measure_overhead(ROOT, args.work_dir, args.repeat)
    print(f'--status: {t["status"]:.2f} s; re-run of the finished run: {t["rerun"]:.2f} s (median of {args.repeat})')
    if 'checkpoint_mib' in t:
        print(f'sha256 of the {t["checkpoint_mib"]:.0f} MiB checkpoint: {t["sha256_uncached"]:.3f} s uncached, '
              f'{t["sha256_cached"] * 1e3:.1f} ms cached')


if __name__ == '__main__':
    main()
