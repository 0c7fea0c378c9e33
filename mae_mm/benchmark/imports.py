"""What every tool pays before it does anything: ``import mae_mm`` and ``tools/train.py --help``.

Each command runs in a fresh interpreter (after one untimed warm-up run, so that every tree sees
warm file caches), from the tree's root with the tree first on ``PYTHONPATH``.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import List

COMMANDS = {
    'python -c "import mae_mm"': ['-c', 'import mae_mm'],
    'python tools/train.py --help': ['tools/train.py', '--help'],
}
PROBE = ('import sys, json, mae_mm; print(json.dumps([mae_mm.__file__, '
         'sorted({m.split(".")[0] for m in sys.modules} & {"mmdet", "mmseg", "mmpretrain"})]))')


def tree_env(tree: str) -> dict:
    """This process's environment with ``tree`` first on ``PYTHONPATH``."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in (tree, env.get('PYTHONPATH')) if p)
    return env


def probe(tree: str) -> List[str]:
    """The toolboxes ``import mae_mm`` loads from ``tree``; checks that it is that tree's mae_mm."""
    out = subprocess.run([sys.executable, '-c', PROBE], cwd=tree, env=tree_env(tree), check=True,
                         capture_output=True, text=True).stdout
    path, toolboxes = json.loads(out.strip().splitlines()[-1])
    if not osp.abspath(path).startswith(osp.abspath(tree) + os.sep):
        raise RuntimeError(f'{tree}: `import mae_mm` loaded {path}, not that tree\'s package')
    return toolboxes


def wall_times(tree: str, args: List[str], repeats: int) -> List[float]:
    """Seconds of ``repeats`` fresh runs of ``python *args`` in ``tree`` (after one untimed run)."""
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=tree, env=tree_env(tree), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            times.append(time.perf_counter() - start)
    return times

