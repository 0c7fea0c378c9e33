"""Runs a plan's points on this machine, one after another, through the project's one runner:
``tools/train.py --resume`` (``tools/dist_train.sh`` with more than one process), then
``tools/test.py`` (``tools/dist_test.sh``) on the newest checkpoint, writing ``metrics.json``.

Each point's output goes to its ``transfer.log``; this process prints one line per change of state
(started, mmengine's ETA at most every ``interval`` seconds, done or failed) and records each in
the manifest.
"""
import os
import os.path as osp
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional

from mae_mm.exit_codes import PREEMPTED
from ..console import say
from ..plan.evaluates import choose, record_choice
from ..plan.graph import block_dependants, point_weights, upstream_point
from ..plan.manifest import point_dir, point_log, write_manifest
from .commands import cfg_options, read_metrics, start_options, test_command, train_command
from .logs import failure_reason, train_progress


class PointInterrupted(Exception):
    """Training stopped to be resumed (a signal, or the preempted exit code): the point is left resumable."""


def _run_logged(cmd: List[str], log_path: str, label: str, interval: float, root: str) -> int:
    """Runs ``cmd`` with its output appended to ``log_path``, saying the training's progress every
    ``interval`` seconds; returns its exit status."""
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


def run_point(root: str, stage: Dict, point: Dict, folder: str, log_path: str, weights: Optional[str], gpus: int,
              interval: float = 30.0) -> Dict:
    """Trains (unless ``stage['train']`` is False) from ``weights`` (None: from no checkpoint) and
    evaluates one point in ``folder``; returns its metrics (``{results key: value}``; none for a
    study's pretraining, which must end with its ``point['checkpoint']``). Raises
    :class:`PointInterrupted`, or RuntimeError with the reason."""
    os.makedirs(folder, exist_ok=True)
    label = f'{point["stage"]}{"/" + point["name"] if point["name"] else ""}'
    options = cfg_options(point, start_options(stage, weights))
    evaluated = weights
    if stage['train']:
        rc = _run_logged(train_command(root, stage, folder, options, gpus), log_path, label, interval, root)
        if rc == PREEMPTED:
            raise PointInterrupted(f'{label}: training saved and stopped (exit {PREEMPTED}); run again to resume')
        if rc != 0:
            raise RuntimeError(failure_reason(log_path, rc))
        with open(osp.join(folder, 'last_checkpoint')) as f:
            evaluated = f.read().strip()
        if stage.get('pretraining'):
            if osp.abspath(evaluated) != osp.abspath(point['checkpoint']):
                raise RuntimeError(f'the pretraining ended with {evaluated}, not the {point["checkpoint"]} its '
                                   'transfers start from')
            return {}
    out = osp.join(folder, 'metrics.json')
    rc = _run_logged(test_command(root, stage, folder, evaluated, options, gpus, out), log_path, label, interval, root)
    if rc != 0:
        raise RuntimeError(failure_reason(log_path, rc))
    return read_metrics(stage, out)


def run_local(root: str, work_dir: str, manifest: Dict, points: List[Dict], gpus: Optional[int],
              interval: float) -> None:
    """Runs ``points`` in order, recording each one's state in the manifest as it changes. Raises
    :class:`PointInterrupted` (after recording it) when one is interrupted."""
    for point in points:
        name = point['stage']
        stage = manifest['stages'][name]['stage']
        label = name + (f'/{point["name"]}' if point['name'] else '')
        upstream = upstream_point(manifest, point)
        if upstream is not None and upstream['status'] != 'done':
            block_dependants(manifest)
            write_manifest(work_dir, manifest)
            say(f'{label}: skipped: {point["reason"]}')
            continue
        if point.get('source'):  # a test of another stage's checkpoint, chosen now that stage has run
            choice = choose(manifest, point)
            if choice.state != 'ready':
                point.update(status='skipped', reason=choice.reason, blocked=True)
                write_manifest(work_dir, manifest)
                say(f'{label}: skipped: {choice.reason}')
                continue
            record_choice(work_dir, manifest, point, choice.point)
            weights = point['evaluated']['checkpoint']
        else:
            weights = point_weights(manifest, point)
        resumed = point['status'] == 'interrupted'
        point.update(status='running', pid=os.getpid(), host=socket.gethostname(), reason=None,
                     started=time.time())
        write_manifest(work_dir, manifest)
        log_path = point_log(work_dir, manifest, name, point)
        say(f'{label}: {"resuming from its newest whole checkpoint" if resumed else "started"} '
            f'({stage["config"]}; log {log_path})')
        try:
            metrics = run_point(root, stage, point, point_dir(work_dir, manifest, name, point), log_path, weights,
                                gpus or 1, interval)
        except PointInterrupted as stop:
            point.update(status='interrupted', reason=str(stop))
            write_manifest(work_dir, manifest)
            say(f'{label}: interrupted; the same command resumes it')
            raise
        except RuntimeError as err:
            point.update(status='failed', reason=str(err), ended=time.time())
            say(f'{label}: failed: {err}')
        else:
            point.update(status='done', metrics=metrics, ended=time.time())
            say(f'{label}: done in {point["ended"] - point["started"]:.0f} s'
                + ''.join(f', {k}={"missing" if v is None else f"{v:.4g}"}' for k, v in metrics.items()))
        write_manifest(work_dir, manifest)
