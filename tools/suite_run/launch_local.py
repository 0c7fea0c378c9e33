"""Runs a suite's points on this machine, one after another, through the project's one runner:
``tools/train.py --resume`` (``tools/dist_train.sh`` with more than one process), then
``tools/test.py`` (``tools/dist_test.sh``) on the newest checkpoint, writing ``metrics.json``.

Each point's output goes to ``<point dir>/transfer.log``; this process prints one line per change
of state (started, mmengine's ETA at most every ``interval`` seconds, done or failed).
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Callable, Dict, List

from .points import cfg_options, option_words
from .progress import failure_reason, train_progress

PREEMPTED = 75  # mae_mm.engine.preemption.PREEMPTED_EXIT_CODE


class PointInterrupted(Exception):
    """Training stopped to be resumed (a signal, exit 75): the point is left resumable."""


def train_command(root: str, stage: Dict, point_dir: str, options: List[str], gpus: int) -> List[str]:
    config = osp.join(root, stage['config'])
    args = ['--work-dir', point_dir, '--resume', *option_words(options)]
    if gpus > 1:
        return ['bash', osp.join(root, 'tools', 'dist_train.sh'), config, str(gpus), *args]
    return [sys.executable, osp.join(root, 'tools', 'train.py'), config, *args]


def test_command(root: str, stage: Dict, point_dir: str, checkpoint: str, options: List[str], gpus: int,
                 out: str) -> List[str]:
    config = osp.join(root, stage['config'])
    args = ['--work-dir', point_dir, '--out', out, *option_words(options)]
    if gpus > 1:
        return ['bash', osp.join(root, 'tools', 'dist_test.sh'), config, checkpoint, str(gpus), *args]
    return [sys.executable, osp.join(root, 'tools', 'test.py'), config, checkpoint, *args]


def _run_logged(cmd: List[str], log_path: str, label: str, say: Callable[[str], None], interval: float,
                root: str) -> int:
    env = dict(os.environ, PYTHONUNBUFFERED='1', PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get('PYTHONPATH')) if p))
    with open(log_path, 'a') as log:
        log.write(f'\n$ {" ".join(cmd)}\n')
        log.flush()
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        last_said, last_line = time.time(), None
        try:
            while proc.poll() is None:
                time.sleep(0.5)
                if time.time() - last_said >= interval:
                    line = train_progress(log_path)
                    if line and line != last_line:
                        say(f'{label}: running, {line}')
                        last_line = line
                    last_said = time.time()
        except KeyboardInterrupt:
            proc.wait()  # the child got the terminal's SIGINT too
            raise PointInterrupted(f'{label}: interrupted')
    return proc.returncode


def run_point(root: str, stage: Dict, point: Dict, point_dir: str, checkpoint: str, gpus: int,
              say: Callable[[str], None], interval: float = 30.0) -> Dict:
    """Trains (unless ``stage['train']`` is False) and evaluates one point; returns its metrics
    (``{results key: value}``). Raises :class:`PointInterrupted`, or RuntimeError with the reason."""
    os.makedirs(point_dir, exist_ok=True)
    log_path = osp.join(point_dir, 'transfer.log')
    label = f'{point["stage"]}{"/" + point["name"] if point["name"] else ""}'
    options = cfg_options(point, checkpoint if stage['train'] else None)
    evaluated = checkpoint
    if stage['train']:
        rc = _run_logged(train_command(root, stage, point_dir, options, gpus), log_path, label, say, interval, root)
        if rc == PREEMPTED:
            raise PointInterrupted(f'{label}: training saved and stopped (exit {PREEMPTED}); run again to resume')
        if rc != 0:
            raise RuntimeError(failure_reason(log_path, rc))
        with open(osp.join(point_dir, 'last_checkpoint')) as f:
            evaluated = f.read().strip()
    out = osp.join(point_dir, 'metrics.json')
    rc = _run_logged(test_command(root, stage, point_dir, evaluated, options, gpus, out), log_path,
                     label, say, interval, root)
    if rc != 0:
        raise RuntimeError(failure_reason(log_path, rc))
    return read_metrics(stage, out)


def read_metrics(stage: Dict, path: str) -> Dict:
    """The stage's results keys from the ``tools/test.py --out`` file at ``path``."""
    with open(path) as f:
        reported = json.load(f)
    absent = [test_key for test_key in stage['metrics'].values() if test_key not in reported]
    if absent:
        raise RuntimeError(f'{path} lacks {absent} (the suite\'s metrics); it has {sorted(reported)}')
    return {key: reported[test_key] for key, test_key in stage['metrics'].items()}
