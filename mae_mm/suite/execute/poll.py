"""Following a Slurm run: ``squeue`` and ``scontrol show job`` (clusters without an accounting
database have no ``sacct``) move running points to done, failed or interrupted. A requeued job
(pending again after a preemption) counts as running. A pending job's reason (squeue's ``%r``) is
kept on its point (``slurm_reason``), with what to do when it does not clear by itself
(``slurm_hint``, :func:`mae_mm.launch.slurm_request.waiting_hint`). A study's transfer jobs whose
pretraining job ended without its checkpoint are cancelled (``scancel``) and marked ``skipped``
(:func:`mae_mm.suite.plan.graph.block_dependants`)."""
import os.path as osp
import subprocess
import time
from typing import Dict, Optional, Tuple

from mae_mm.exit_codes import PREEMPTED
from mae_mm.launch.slurm_request import all_nodes_down, waiting_hint, waits_on_nodes
from ..errors import SlurmError
from ..plan.graph import block_dependants
from ..plan.manifest import iter_points, point_dir, point_log, read_manifest, write_manifest
from .commands import read_metrics
from .logs import failure_reason

ACTIVE = {'PENDING', 'RUNNING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'CONFIGURING', 'COMPLETING',
          'RESIZING', 'SUSPENDED', 'SIGNALING', 'STAGE_OUT', 'PREEMPTED'}
# ended states after which the point's training can resume from its newest whole checkpoint
RESUMABLE = {'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE'}


def queue_states() -> Dict[str, Tuple[str, str, str]]:
    """``{job id: (state, partition, reason)}`` of the jobs squeue lists (the ones not ended, or
    ended moments ago); the reason is why a pending job waits (squeue shows ``None`` for a running one)."""
    # -r: a line per array task; the reason last, it may hold spaces ('ReqNodeNotAvail, UnavailableNodes:n1')
    proc = subprocess.run(['squeue', '-h', '-r', '-o', '%i %T %P %r'], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SlurmError(f'squeue failed: {proc.stderr.strip()}')
    rows = [line.split(None, 3) for line in proc.stdout.splitlines() if line.strip()]
    return {row[0]: (row[1], row[2], row[3] if len(row) > 3 else '') for row in rows if len(row) > 2}


def note_waiting(point: Dict, state: Optional[str], partition: str, reason: str) -> None:
    """Keeps a pending job's reason on its point (``slurm_reason``) and, when it does not clear by
    itself, what to do (``slurm_hint``); clears both otherwise (squeue's ``None``: no reason yet)."""
    waiting = state == 'PENDING' and reason not in ('', 'None')
    down = waiting and waits_on_nodes(reason) and all_nodes_down(partition)
    point['slurm_reason'] = reason if waiting else None
    point['slurm_hint'] = waiting_hint(reason, point['job_id'], down) if waiting else None


def ended_state(job_id: str) -> Tuple[Optional[str], Optional[str]]:
    """``(JobState, ExitCode)`` of an ended job while slurmctld still holds it (MinJobAge), else
    ``(None, None)``; ExitCode reads ``status:signal``, e.g. ``75:0``."""
    proc = subprocess.run(['scontrol', '-o', 'show', 'job', job_id], capture_output=True, text=True)
    fields = dict(word.split('=', 1) for word in proc.stdout.split() if '=' in word)
    return fields.get('JobState'), fields.get('ExitCode')


def resumable(state: Optional[str], exit_code: Optional[str]) -> bool:
    """Whether a job that ended without metrics was stopped rather than broken: cancelled, out of
    time, its node lost, or preempted once more than MAX_RESTARTS allowed (the preempted exit code)."""
    return state in RESUMABLE or (state == 'FAILED' and (exit_code or '').split(':')[0] == str(PREEMPTED))


def refresh_slurm(work_dir: str, manifest: Dict) -> bool:
    """Moves running Slurm points to done, failed or interrupted by squeue, scontrol and their
    metrics files; returns whether any changed."""
    active = [(s, p) for s, p in iter_points(manifest) if p['status'] == 'running' and p.get('job_id')]
    if not active:
        return cancel_blocked(manifest)
    queue = queue_states()
    changed = False
    for name, point in active:
        state, partition, reason = queue.get(point['job_id'], (None, '', ''))
        point['slurm_state'] = state
        note_waiting(point, state, partition, reason)
        if state in ACTIVE:
            continue
        metrics_file = osp.join(point_dir(work_dir, manifest, name, point), 'metrics.json')
        ended, exit_code = ended_state(point['job_id'])
        log = point_log(work_dir, manifest, name, point)
        if manifest['stages'][name]['stage'].get('pretraining') and ended in (None, 'COMPLETED') \
                and osp.isfile(point['checkpoint']):  # a study's pretraining: its checkpoint, no metrics
            point.update(status='done', metrics={}, ended=time.time())
        elif osp.isfile(metrics_file) and ended in (None, 'COMPLETED'):
            try:
                point.update(status='done', metrics=read_metrics(manifest['stages'][name]['stage'], metrics_file),
                             ended=time.time())
            except RuntimeError as err:
                point.update(status='failed', reason=str(err))
        elif resumable(ended, exit_code):  # the same command resubmits it with --resume
            point.update(status='interrupted', reason=f'job {point["job_id"]} {ended} (exit {exit_code}) before it '
                                                      f'ended: the same command resumes it (log {log})')
        else:
            point.update(status='failed', reason=f'job {point["job_id"]} ended ({ended or "gone from the queue"}) '
                                                 f'without metrics: {failure_reason(log)} (log {log})')
        changed = True
    return cancel_blocked(manifest) or changed


def cancel_blocked(manifest: Dict) -> bool:
    """Cancels the jobs of points left waiting on a pretraining job that ended without its
    checkpoint (Slurm may have cancelled them already: ``--kill-on-invalid-dep``); returns whether
    any point changed."""
    before = [p['status'] for _, p in iter_points(manifest)]
    blocked = block_dependants(manifest)
    if blocked:
        subprocess.run(['scancel', *[p['job_id'] for p in blocked]], capture_output=True, text=True)
    return before != [p['status'] for _, p in iter_points(manifest)]


def current_manifest(work_dir: str) -> Optional[Dict]:
    """The manifest in ``work_dir`` (None when there is none), a Slurm run's jobs polled first and
    what changed written back: jobs that ended since the last look are no longer running."""
    manifest = read_manifest(work_dir)
    if manifest is not None and manifest['launcher'] == 'slurm' and refresh_slurm(work_dir, manifest):
        write_manifest(work_dir, manifest)
    return manifest


def follow(work_dir: str, manifest: Dict, wait: float) -> None:
    """Polls a Slurm run (every 10 s, at most ``wait`` seconds) until none of its points runs,
    writing the manifest when something changed; polls once when ``wait`` is 0. An interrupted
    point waits for the user's next command, not for this loop."""
    deadline = time.time() + wait
    while manifest['launcher'] == 'slurm':
        if refresh_slurm(work_dir, manifest):
            write_manifest(work_dir, manifest)
        if time.time() >= deadline or not any(p['status'] == 'running' for _, p in iter_points(manifest)):
            break
        time.sleep(min(10.0, max(deadline - time.time(), 0.1)))
