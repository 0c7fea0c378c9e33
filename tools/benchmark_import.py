"""Times what every tool pays before it does anything: ``import mae_mm`` and ``tools/train.py --help``.

    python tools/benchmark_import.py [--repeats 7] [--other /tmp/before]

Each command runs in a fresh interpreter (after one untimed warm-up run, so that both trees see
warm file caches), from the tree's root with the tree first on ``PYTHONPATH``; the median and the
minimum wall time of ``--repeats`` runs are printed, with the toolboxes a bare ``import mae_mm``
loads. ``--other`` times a second checkout (e.g. the code before a change) the same way.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COMMANDS = {
    'python -c "import mae_mm"': ['-c', 'import mae_mm'],
    'python tools/train.py --help': ['tools/train.py', '--help'],
}
PROBE = ('import sys, json, mae_mm; print(json.dumps([mae_mm.__file__, '
         'sorted({m.split(".")[0] for m in sys.modules} & {"mmdet", "mmseg", "mmpretrain"})]))')


def tree_env(tree: str) -> dict:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (tree, env.get('PYTHONPATH')) if p)
    return env


def probe(tree: str) -> list:
    """The toolboxes ``import mae_mm`` loads from ``tree``; checks that it is that tree's mae_mm."""
    out = subprocess.run([sys.executable, '-c', PROBE], cwd=tree, env=tree_env(tree), check=True,
                         capture_output=True, text=True).stdout
    path, toolboxes = json.loads(out.strip().splitlines()[-1])
    if not osp.abspath(path).startswith(osp.abspath(tree) + os.sep):
        raise RuntimeError(f'{tree}: `import mae_mm` loaded {path}, not that tree\'s package')
    return toolboxes


def wall_times(tree: str, args: list, repeats: int) -> list:
    """Seconds of ``repeats`` fresh runs of ``python *args`` in ``tree`` (after one untimed run)."""
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=tree, env=tree_env(tree), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            times.append(time.perf_counter() - start)
    return times


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
