"""Times tools/transfer.py's own overhead on a finished suite run: ``--status``, a re-run of the
same command (nothing left to run), and the checkpoint's sha256 uncached against cached.

    python tools/benchmark_transfer.py WORK_DIR [--repeat 5]

WORK_DIR is a suite run whose stages have all ended (e.g. work_dirs/demo after tools/demo.sh).
Prints the median wall time of each, in seconds, as processes started from this one.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tools'))
from suite_run.checkpoint_facts import sha256_of  # noqa: E402


def timed(cmd, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir')
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    with open(osp.join(args.work_dir, 'manifest.json')) as f:
        manifest = json.load(f)
    tool = [sys.executable, osp.join(ROOT, 'tools', 'transfer.py')]
    status = timed(tool + ['--status', args.work_dir], args.repeat)
    rerun = timed(tool + [manifest['checkpoint']['path'], '--suite', manifest['suite']['path'], '--work-dir',
                          args.work_dir, '--launcher', manifest['launcher']]
                  + (['--partition', manifest['partition']] if manifest.get('partition') else []), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        cache = osp.join(tmp, 'hashes.json')
        start = time.perf_counter()
        sha256_of(manifest['checkpoint']['path'], cache)
        uncached = time.perf_counter() - start
        start = time.perf_counter()
        sha256_of(manifest['checkpoint']['path'], cache)
        cached = time.perf_counter() - start
    size = os.path.getsize(manifest['checkpoint']['path']) / 2 ** 20
    print(f'--status: {status:.2f} s; re-run of the finished suite: {rerun:.2f} s (median of {args.repeat})')
    print(f'sha256 of the {size:.0f} MiB checkpoint: {uncached:.3f} s uncached, {cached * 1e3:.1f} ms cached')


if __name__ == '__main__':
    main()
