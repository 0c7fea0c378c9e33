"""Submits a plan's points to Slurm through the project's launcher, ``tools/slurm_train.sh``
(training that requeues itself on preemption, then ``tools/test.py``; with ``--eval CHECKPOINT``,
``tools/test.py`` on that checkpoint alone): a stage of one point as one job, a stage of several
(sweeps, seeds) as one job array, a task per point; plus a collection job, ``--dependency=afterany``
on them, that runs ``tools/transfer.py --status`` and so writes the tables once every point has
ended. Returns at once; :mod:`.poll` follows the jobs.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional

from ..console import say
from ..errors import SlurmError
from ..plan.graph import starting_weights
from ..plan.manifest import point_dir, stage_dir, write_manifest
from .commands import cfg_options, option_words


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


def _env(gpus: int, **extra: str) -> Dict:
    return dict(os.environ, GPUS=str(gpus), PYTHON=os.environ.get('PYTHON', sys.executable), **extra)


def _slurm_train(root: str, partition: str, job_name: str, stage: Dict, weights: str, work_dir: str) -> List[str]:
    """``tools/slurm_train.sh``'s words up to the tools' arguments: an evaluation-only stage
    evaluates ``weights`` (``--eval CHECKPOINT``); a training stage gets them in its options."""
    evaluate = [] if stage['train'] else ['--eval', weights]
    return ['bash', osp.join(root, 'tools', 'slurm_train.sh'), *evaluate, partition, job_name,
            osp.join(root, stage['config']), work_dir]


def _options(stage: Dict, point: Dict, weights: str) -> List[str]:
    return option_words(cfg_options(point, weights if stage['train'] else None))


def submit_point(root: str, partition: str, stage: Dict, point: Dict, folder: str, weights: str, gpus: int) -> str:
    """Submits one point; returns its job id."""
    os.makedirs(folder, exist_ok=True)
    name = f'mae_mm-{point["stage"]}' + (f'-{point["name"]}' if point['name'] else '')
    cmd = _slurm_train(root, partition, name, stage, weights, folder) + _options(stage, point, weights)
    return _sbatch_output(cmd, _env(gpus, MAE_MM_EVAL_OUT=osp.join(folder, 'metrics.json')))


def submit_array(root: str, partition: str, stage: Dict, points: List[Dict], folders: List[str],
                 stage_folder: str, weights: str, gpus: int) -> List[str]:
    """Submits the points of one stage as one job array (task i runs ``points[i]`` in
    ``folders[i]``; their logs go to ``stage_folder``); returns the tasks' job ids, ``ARRAY_i``."""
    os.makedirs(stage_folder, exist_ok=True)
    lines = []
    for point, folder in zip(points, folders):
        os.makedirs(folder, exist_ok=True)
        words = _options(stage, point, weights)
        if any('\t' in w or '\n' in w for w in words):
            raise SlurmError(f'{point["stage"]} {point["name"]}: an override holds a tab or a newline: {words}')
        lines.append('\t'.join([folder, *words]))
    points_file = osp.join(stage_folder, f'array-points-{time.strftime("%Y%m%d-%H%M%S")}-{os.getpid()}.tsv')
    with open(points_file, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    cmd = _slurm_train(root, partition, f'mae_mm-{points[0]["stage"]}', stage, weights, stage_folder)
    # MAE_MM_EVAL_OUT relative: a file in each task's work dir
    array = _sbatch_output(cmd, _env(gpus, POINTS_FILE=points_file, MAE_MM_EVAL_OUT='metrics.json'))
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


def run_slurm(root: str, work_dir: str, manifest: Dict, points: List[Dict], gpus: Optional[int]) -> None:
    """One job per stage of one point, one job array per stage of several; then the collection
    job. Records every job id in the manifest as it is submitted."""
    by_stage: Dict[str, List[Dict]] = {}
    for point in points:
        by_stage.setdefault(point['stage'], []).append(point)
    jobs = []
    for name, stage_points in by_stage.items():
        stage = manifest['stages'][name]['stage']
        weights = starting_weights(manifest, name)
        folders = [point_dir(work_dir, manifest, name, p) for p in stage_points]
        args = (root, manifest['partition'], stage)
        if len(stage_points) == 1:
            ids = [submit_point(*args, stage_points[0], folders[0], weights, gpus or stage['gpus'])]
            logs = [None]
        else:
            stage_folder = stage_dir(work_dir, name, stage['train'])
            ids = submit_array(*args, stage_points, folders, stage_folder, weights, gpus or stage['gpus'])
            logs = [osp.join(stage_folder, f'slurm-{job}.out') for job in ids]
        for point, job, log in zip(stage_points, ids, logs):
            point.update(status='running', job_id=job, log=log, reason=None, submitted=time.time())
            say(f'{name}{"/" + point["name"] if point["name"] else ""}: submitted as job {job}')
        jobs.append(ids[0].split('_')[0] if len(ids) > 1 else ids[0])  # an array's id covers its tasks
        write_manifest(work_dir, manifest)
    if jobs:
        collector = submit_collection(root, manifest['partition'], osp.abspath(work_dir), jobs)
        manifest['collect_job'] = collector
        write_manifest(work_dir, manifest)
        say(f'tables: job {collector} writes them after jobs {",".join(jobs)} (or: tools/transfer.py --status {work_dir})')
