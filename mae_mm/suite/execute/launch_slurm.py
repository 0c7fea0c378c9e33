"""Submits a plan's points to Slurm through the project's launcher, ``tools/slurm_train.sh``
(training that requeues itself on preemption, then ``tools/test.py``; with ``--eval CHECKPOINT``,
``tools/test.py`` on that checkpoint alone): a stage of one point as one job, a stage of several
(sweeps, seeds) as one job array, a task per point; plus a collection job, ``--dependency=afterany``
on them, that runs ``tools/transfer.py --status`` and so writes the tables once every point has
ended. Returns at once; :mod:`.poll` follows the jobs. Before anything is submitted, every
stage's request is put to Slurm (``tools/slurm_train.sh --test-only``): one that can never run is
refused with the launcher's message (:mod:`mae_mm.launch.slurm_request`).

In a study the points of a transfer stage are grouped by the pretraining point they start from:
a job (or array) per group, submitted with ``--dependency=afterok:<that pretraining job>`` and
``--kill-on-invalid-dep=yes``, so it starts once that training has completed and Slurm cancels it
when the training ends any other way (:func:`mae_mm.suite.plan.graph.block_dependants` then
marks it ``skipped``, and the next command resubmits it behind the new pretraining job).
"""
import json
import os
import os.path as osp
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

from mae_mm.launch.slurm_request import REFUSED
from ..console import say
from ..errors import SlurmError
from ..plan.evaluates import choose, record_choice
from ..plan.graph import point_weights, upstream_point
from ..plan.study import final_checkpoint, load_config
from ..plan.manifest import point_dir, stage_dir, write_manifest
from .commands import cfg_options, option_words, start_options


def require_sbatch() -> None:
    missing = [cmd for cmd in ('sbatch', 'squeue', 'scontrol') if shutil.which(cmd) is None]
    if missing:
        raise SlurmError(f'--launcher slurm: {", ".join(missing)} not found on PATH: this needs a Slurm client '
                         '(or use --launcher local)')


# tools/slurm_train.sh's variables as this tool sets them, added to its refusal of a request
SUITE_KNOBS = ('tools/transfer.py: --gpus N sets GPUS (every stage), --partition the PARTITION; CPUS_PER_TASK and '
               'GPUS_PER_NODE are taken from its environment')


def _submit(cmd: List[str], env: Dict) -> subprocess.CompletedProcess:
    """Runs a submission command. Raises SlurmError with its message: as tools/slurm_train.sh
    words it when it refused the request, with this tool's variables."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    message = proc.stderr.strip() or proc.stdout.strip()
    if proc.returncode != 0 and REFUSED in message:
        raise SlurmError(f'{message}\n  {SUITE_KNOBS}')
    if proc.returncode != 0:
        raise SlurmError(f'{" ".join(cmd[:3])} ... failed ({proc.returncode}): {message}')
    return proc


def _sbatch_output(cmd: List[str], env: Dict) -> str:
    """The job id that ``cmd`` (sbatch --parsable, or tools/slurm_train.sh) printed last."""
    return _submit(cmd, env).stdout.strip().splitlines()[-1].split(';')[0]


def _env(gpus: int, after: Optional[str] = None, **extra: str) -> Dict:
    """The launcher's environment: ``after``, a job this one waits for (``afterok``)."""
    env = dict(os.environ, GPUS=str(gpus), PYTHON=os.environ.get('PYTHON', sys.executable), **extra)
    # what a cancelled job's log tells the user to run again: this very command (tools/slurm_job.sh)
    env.setdefault('MAE_MM_RESUME_WITH', 'python ' + shlex.join(sys.argv))
    if after:
        env['SBATCH_ARGS'] = f'{env.get("SBATCH_ARGS", "")} --dependency=afterok:{after} --kill-on-invalid-dep=yes'
    return env


def _slurm_train(root: str, partition: str, job_name: str, stage: Dict, weights: str, work_dir: str) -> List[str]:
    """``tools/slurm_train.sh``'s words up to the tools' arguments: an evaluation-only stage
    evaluates ``weights`` (``--eval CHECKPOINT``); a training stage gets them in its options."""
    evaluate = [] if stage['train'] else ['--eval', weights]
    return ['bash', osp.join(root, 'tools', 'slurm_train.sh'), *evaluate, partition, job_name,
            osp.join(root, stage['config']), work_dir]


def check_requests(root: str, partition: str, stages: List[Dict], gpus: Optional[int]) -> None:
    """Puts each stage's request (its processes: ``gpus``, else the stage's) to Slurm before any is
    submitted (``tools/slurm_train.sh --test-only``); raises SlurmError when one can never run, and
    passes on its warning when one must wait for drained nodes."""
    asked = {gpus or stage['gpus']: stage for stage in stages}  # the rest of the request is the same
    for processes, stage in asked.items():
        cmd = ['bash', osp.join(root, 'tools', 'slurm_train.sh'), '--test-only', partition, 'mae_mm-check',
               osp.join(root, stage['config'])]
        warning = _submit(cmd, _env(processes)).stderr.strip()
        if warning:
            say(warning)


def _options(stage: Dict, point: Dict, weights: Optional[str]) -> List[str]:
    return option_words(cfg_options(point, start_options(stage, weights)))


def _eval_out(stage: Dict, path: str) -> Dict:
    """MAE_MM_EVAL_OUT (tools/test.py's metrics after training), unless the stage is a study's pretraining."""
    return {} if stage.get('pretraining') else dict(MAE_MM_EVAL_OUT=path)


def submit_point(root: str, partition: str, stage: Dict, point: Dict, folder: str, weights: Optional[str], gpus: int,
                 after: Optional[str] = None) -> str:
    """Submits one point (after job ``after`` has completed, when given); returns its job id."""
    os.makedirs(folder, exist_ok=True)
    name = f'mae_mm-{point["stage"]}' + (f'-{point["name"]}'.replace('/', '-') if point['name'] else '')
    cmd = _slurm_train(root, partition, name, stage, weights, folder) + _options(stage, point, weights)
    return _sbatch_output(cmd, _env(gpus, after, **_eval_out(stage, osp.join(folder, 'metrics.json'))))


def submit_array(root: str, partition: str, stage: Dict, points: List[Dict], folders: List[str],
                 stage_folder: str, weights: Optional[str], gpus: int, after: Optional[str] = None) -> List[str]:
    """Submits points of one stage (starting from the same ``weights``) as one job array (task i
    runs ``points[i]`` in ``folders[i]``; their logs go to ``stage_folder``), after job ``after``
    when given; returns the tasks' job ids, ``ARRAY_i``."""
    os.makedirs(stage_folder, exist_ok=True)
    lines = []
    for point, folder in zip(points, folders):
        os.makedirs(folder, exist_ok=True)
        words = _options(stage, point, weights)
        if any('\t' in w or '\n' in w for w in words):
            raise SlurmError(f'{point["stage"]} {point["name"]}: an override holds a tab or a newline: {words}')
        lines.append('\t'.join([folder, *words]))
    # a file of its own per array: a study submits several arrays of one stage within a second, and
    # each task reads its line when it starts
    handle, points_file = tempfile.mkstemp(prefix=f'array-points-{time.strftime("%Y%m%d-%H%M%S")}-', suffix='.tsv',
                                           dir=stage_folder)
    with os.fdopen(handle, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    cmd = _slurm_train(root, partition, f'mae_mm-{points[0]["stage"]}', stage, weights, stage_folder)
    # MAE_MM_EVAL_OUT relative: a file in each task's work dir
    array = _sbatch_output(cmd, _env(gpus, after, POINTS_FILE=points_file, **_eval_out(stage, 'metrics.json')))
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


def _groups(manifest: Dict, points: List[Dict]) -> List[List[Dict]]:
    """The points in submission groups: one per stage, and per pretraining point in a study's
    transfer stages (each group one job or array), and each evaluation point of another stage's
    checkpoints alone, in the order given."""
    groups: Dict[tuple, List[Dict]] = {}
    for point in points:  # an evaluation of another stage's checkpoints: a job per point (one checkpoint each)
        key = (point['stage'], point.get('upstream')) + ((point['name'],) if point.get('source') else ())
        groups.setdefault(key, []).append(point)
    return list(groups.values())


def _evaluated(root: str, work_dir: str, manifest: Dict, point: Dict) -> Optional[Tuple[str, Optional[str]]]:
    """What an evaluation point of another stage's checkpoints is submitted with: ``(checkpoint,
    job to wait for)``. Its source point when that has ended; the job of its seed's source point
    when the chain has no sweep to choose from (the checkpoint it will end with); else None, the
    point left pending (the sweep's best is known once it has ended: the next command submits it)
    or skipped (nothing to evaluate)."""
    choice = choose(manifest, point)
    if choice.state == 'ready':
        record_choice(work_dir, manifest, point, choice.point)
        return point['evaluated']['checkpoint'], None
    if choice.state == 'blocked':
        point.update(status='skipped', reason=choice.reason, blocked=True)
        say(f'{point["stage"]}/{point["name"]}: skipped: {choice.reason}')
        return None
    source = manifest['stages'][point['source']]
    members = [p for p in source['points'] if p.get('upstream') == point.get('upstream')]
    mine = [p for p in members if p['seed'] == point['seed'] and p['status'] == 'running' and p.get('job_id')]
    if len({json.dumps(p['overrides'], sort_keys=True) for p in members}) == 1 and mine:
        folder = osp.abspath(point_dir(work_dir, manifest, point['source'], mine[0]))
        cfg = load_config(osp.join(root, source['stage']['config']), mine[0]['overrides'])
        record_choice(work_dir, manifest, point, mine[0], checkpoint=final_checkpoint(cfg, folder))
        return point['evaluated']['checkpoint'], mine[0]['job_id']
    point['reason'] = (f'waits for the {point["source"]} sweep to choose its point: run the same command again once '
                       f'its jobs have ended')
    say(f'{point["stage"]}/{point["name"]}: not submitted: {point["reason"]}')
    return None


def run_slurm(root: str, work_dir: str, manifest: Dict, points: List[Dict], gpus: Optional[int],
              checked: bool = False) -> None:
    """Every stage's request checked (:func:`check_requests`; ``checked``: the caller has); then one job per group of one
    point, one job array per group of several (:func:`_groups`), a study's transfers behind their
    pretraining point's job; then the collection job. Records every job id in the manifest as it
    is submitted."""
    groups = _groups(manifest, points)
    if not checked:
        check_requests(root, manifest['partition'], [manifest['stages'][g[0]['stage']]['stage'] for g in groups], gpus)
    jobs = []
    for group in groups:
        name = group[0]['stage']
        stage = manifest['stages'][name]['stage']
        if group[0].get('source'):
            resolved = _evaluated(root, work_dir, manifest, group[0])
            if resolved is None:
                write_manifest(work_dir, manifest)
                continue
            weights, after = resolved
        else:
            weights = point_weights(manifest, group[0])
            upstream = upstream_point(manifest, group[0])
            after = upstream['job_id'] if upstream is not None and upstream['status'] == 'running' else None
        folders = [point_dir(work_dir, manifest, name, p) for p in group]
        args = (root, manifest['partition'], stage)
        if len(group) == 1:
            ids = [submit_point(*args, group[0], folders[0], weights, gpus or stage['gpus'], after)]
            logs = [None]
        else:
            stage_folder = stage_dir(work_dir, name, stage['train'])
            ids = submit_array(*args, group, folders, stage_folder, weights, gpus or stage['gpus'], after)
            logs = [osp.join(stage_folder, f'slurm-{job}.out') for job in ids]
        for point, job, log in zip(group, ids, logs):
            point.update(status='running', job_id=job, log=log, reason=None, submitted=time.time())
            say(f'{name}{"/" + point["name"] if point["name"] else ""}: submitted as job {job}'
                + (f', after job {after}' if after else ''))
        jobs.append(ids[0].split('_')[0] if len(ids) > 1 else ids[0])  # an array's id covers its tasks
        write_manifest(work_dir, manifest)
    if jobs:
        collector = submit_collection(root, manifest['partition'], osp.abspath(work_dir), jobs)
        manifest['collect_job'] = collector
        write_manifest(work_dir, manifest)
        say(f'tables: job {collector} writes them after jobs {",".join(jobs)} (or: tools/transfer.py --status {work_dir})')
