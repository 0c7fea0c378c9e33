"""Submits a suite's points to Slurm through the project's launcher, ``tools/slurm_train.sh``
(training that requeues itself on preemption, then ``tools/test.py``): a stage of one point as one
job, a stage of several (sweeps, seeds) as one job array, a task per point; plus a collection job,
``--dependency=afterany`` on them, that runs ``tools/transfer.py --status`` and so writes the tables
once every point has ended. Returns at once.

Jobs are followed through ``squeue`` and ``scontrol show job`` (clusters without an accounting
database have no ``sacct``); a requeued job (pending again after a preemption) counts as running.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from .launch_local import PREEMPTED
from .points import cfg_options, option_words

ACTIVE = {'PENDING', 'RUNNING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'CONFIGURING', 'COMPLETING',
          'RESIZING', 'SUSPENDED', 'SIGNALING', 'STAGE_OUT', 'PREEMPTED'}


class SlurmError(RuntimeError):
    pass


def require_sbatch() -> None:
    missing = [cmd for cmd in ('sbatch', 'squeue', 'scontrol') if shutil.which(cmd) is None]
    if missing:
        raise SlurmError(f'--launcher slurm: {", ".join(missing)} not found on PATH: this needs a Slurm client '
                         '(or use --launcher local)')


def _sbatch_output(cmd: List[str], env: Dict) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SlurmError(f'{" ".join(cmd[:3])} ... failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}')
    return proc.stdout.strip().splitlines()[-1].split(';')[0]


def submit_point(root: str, partition: str, stage: Dict, point: Dict, point_dir: str, checkpoint: str,
                 gpus: int) -> str:
    """Submits one point; returns its job id."""
    os.makedirs(point_dir, exist_ok=True)
    env = dict(os.environ, GPUS=str(gpus), PYTHON=os.environ.get('PYTHON', sys.executable),
               MAE_MM_EVAL_OUT=osp.join(point_dir, 'metrics.json'))
    if stage['train']:
        options = cfg_options(point, checkpoint)
    else:
        options = cfg_options(point, None)
        env['MAE_MM_EVAL_CHECKPOINT'] = checkpoint
    name = f'mae_mm-{point["stage"]}' + (f'-{point["name"]}' if point['name'] else '')
    cmd = ['bash', osp.join(root, 'tools', 'slurm_train.sh'), partition, name, osp.join(root, stage['config']),
           point_dir, *option_words(options)]
    return _sbatch_output(cmd, env)


def submit_array(root: str, partition: str, stage: Dict, points: List[Dict], point_dirs: List[str],
                 stage_dir: str, checkpoint: str, gpus: int) -> List[str]:
    """Submits the points of one stage as one job array (task i runs ``points[i]`` in
    ``point_dirs[i]``; their logs go to ``stage_dir``); returns the tasks' job ids, ``ARRAY_i``."""
    os.makedirs(stage_dir, exist_ok=True)
    lines = []
    for point, folder in zip(points, point_dirs):
        os.makedirs(folder, exist_ok=True)
        words = option_words(cfg_options(point, checkpoint if stage['train'] else None))
        if any('\t' in w or '\n' in w for w in words):
            raise SlurmError(f'{point["stage"]} {point["name"]}: an override holds a tab or a newline: {words}')
        lines.append('\t'.join([folder, *words]))
    points_file = osp.join(stage_dir, f'array-points-{time.strftime("%Y%m%d-%H%M%S")}-{os.getpid()}.tsv')
    with open(points_file, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    env = dict(os.environ, GPUS=str(gpus), PYTHON=os.environ.get('PYTHON', sys.executable),
               POINTS_FILE=points_file, MAE_MM_EVAL_OUT='metrics.json')  # relative: in each task's work dir
    if not stage['train']:
        env['MAE_MM_EVAL_CHECKPOINT'] = checkpoint
    cmd = ['bash', osp.join(root, 'tools', 'slurm_train.sh'), partition, f'mae_mm-{points[0]["stage"]}',
           osp.join(root, stage['config']), stage_dir]
    array = _sbatch_output(cmd, env)
    return [f'{array}_{i}' for i in range(len(points))]


def submit_collection(root: str, partition: str, work_dir: str, job_ids: List[str]) -> str:
    """The job that writes results.* once every point's job has ended (whatever their outcome)."""
    python = os.environ.get('PYTHON', sys.executable)
    # --wait: a job just ended may still be COMPLETING when the dependency lets this one start
    wrap = f'cd {root} && {python} tools/transfer.py --status {work_dir} --wait 300'
    cmd = ['sbatch', '--parsable', '-p', partition, '--job-name=mae_mm-collect', '--ntasks=1', '--cpus-per-task=1',
           f'--dependency=afterany:{":".join(job_ids)}', f'--output={osp.join(work_dir, "collect-%j.out")}',
           f'--wrap={wrap}']
    return _sbatch_output(cmd, dict(os.environ))


def queue_states() -> Dict[str, str]:
    """``{job id: state}`` of the jobs squeue lists (the ones not ended, or ended moments ago)."""
    proc = subprocess.run(['squeue', '-h', '-r', '-o', '%i %T'], capture_output=True, text=True)  # -r: a line per array task
    if proc.returncode != 0:
        raise SlurmError(f'squeue failed: {proc.stderr.strip()}')
    return dict(line.split(None, 1) for line in proc.stdout.splitlines() if line.strip())


# ended states after which the point's training can resume from its newest whole checkpoint
RESUMABLE = {'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE'}


def ended_state(job_id: str) -> Tuple[Optional[str], Optional[str]]:
    """``(JobState, ExitCode)`` of an ended job while slurmctld still holds it (MinJobAge), else
    ``(None, None)``; ExitCode reads ``status:signal``, e.g. ``75:0``."""
    proc = subprocess.run(['scontrol', '-o', 'show', 'job', job_id], capture_output=True, text=True)
    fields = dict(word.split('=', 1) for word in proc.stdout.split() if '=' in word)
    return fields.get('JobState'), fields.get('ExitCode')


def resumable(state: Optional[str], exit_code: Optional[str]) -> bool:
    """Whether a job that ended without metrics was stopped rather than broken: cancelled, out of
    time, its node lost, or preempted once more than MAX_RESTARTS allowed (exit 75)."""
    return state in RESUMABLE or (state == 'FAILED' and (exit_code or '').split(':')[0] == str(PREEMPTED))


def job_log(point_dir: str, point: Dict) -> str:
    """The point's Slurm log: in its own dir for a plain job, in the stage's for an array task."""
    return point.get('log') or osp.join(point_dir, f'slurm-{point["job_id"]}.out')
