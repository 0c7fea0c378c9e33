"""A suite run from start to table, the three parts in order: plan, execute, report
(``tools/transfer.py`` parses the command line and calls these).

Exit statuses: 0 when every point ran (or, for a Slurm run, was submitted), 1 when a point
failed, :data:`mae_mm.exit_codes.PREEMPTED` when a local point was interrupted (the same command
resumes it); refusals raise one of :data:`mae_mm.suite.errors.REFUSALS` (``tools/transfer.py``: 2).
"""
import os.path as osp
from typing import Optional

from mae_mm.exit_codes import PREEMPTED
from .console import say
from .errors import NotAPretrainingCheckpoint, RunRefused
from .execute.launch_local import PointInterrupted, run_local
from .execute.launch_slurm import check_requests, require_sbatch, run_slurm
from .execute.poll import current_manifest, follow
from .execute.prepare import convert_if_needed, discard
from .plan.build import make_plan
from .plan.manifest import all_ended, iter_points, read_manifest, write_manifest
from .report.outputs import write_outputs
from .report.results import read_results
from .report.status import status_lines
from .report.tables import compare
from .request import SuiteRequest


def start(request: SuiteRequest, root: str) -> int:
    """Plans ``request`` (the project at ``root``), then runs what is left of it: locally to the
    end (then prints its status), or submitted to Slurm. ``--dry-run`` prints the plan only."""
    if not request.pretrain and not osp.isfile(request.checkpoint):
        raise NotAPretrainingCheckpoint(f'checkpoint not found: {request.checkpoint}')
    if request.launcher == 'slurm':
        require_sbatch()
    plan = make_plan(request, root, current_manifest(request.resolved_work_dir()))
    if request.dry_run:
        print('\n'.join(plan.describe()))
        return 0
    work_dir, manifest = plan.work_dir, plan.manifest
    if request.launcher == 'slurm' and plan.points:  # a request Slurm can never run: refused with the old run intact
        stages = {p['stage']: manifest['stages'][p['stage']]['stage'] for p in plan.points}
        check_requests(root, manifest['partition'], list(stages.values()), request.gpus)
    discard(work_dir, plan.discard, manifest['checkpoint'])  # only now: every check passed with the old run intact
    if plan.points:
        if manifest['checkpoint']:
            convert_if_needed(root, work_dir, manifest['checkpoint'])
    else:
        say(f'nothing to run in {work_dir}: every point has ended')
    if plan.points or plan.fresh:
        write_manifest(work_dir, manifest)
    if request.launcher == 'slurm':
        run_slurm(root, work_dir, manifest, plan.points, request.gpus, checked=True)
        return 0
    try:
        run_local(root, work_dir, manifest, plan.points, request.gpus, request.progress_interval)
    except PointInterrupted:
        return PREEMPTED
    return show_status(work_dir)


def show_status(work_dir: str, wait: float = 0.0) -> int:
    """Prints where every point of the run in ``work_dir`` stands (a Slurm run's jobs polled, for
    up to ``wait`` seconds until none runs), and the table once every point has ended (writing
    the outputs if they are not fresh). 1 when a point failed, else 0."""
    manifest = read_manifest(work_dir)
    if manifest is None:
        raise RunRefused(f'{work_dir} holds no manifest.json: not a suite run')
    follow(work_dir, manifest, wait)
    source = (f'a study of {manifest["study"]["config"]}' if manifest.get('study')
              else manifest['checkpoint']['path'])
    print(f'{work_dir}: {source} with {manifest["suite"]["path"]} ({manifest["launcher"]})')
    for line in status_lines(work_dir, manifest):
        print('  ' + line)
    if all_ended(manifest):
        print(write_outputs(work_dir, manifest))
    return 1 if any(p['status'] == 'failed' for _, p in iter_points(manifest)) else 0


def show_compare(dir_a: str, dir_b: str, out: Optional[str] = None) -> int:
    """Prints the two runs' results side by side and writes them to ``out`` (default
    ``DIR_B/compare.md``); runs of the same folder name are called A and B."""
    a, b = read_results(dir_a), read_results(dir_b)
    name_a, name_b = osp.basename(osp.normpath(dir_a)), osp.basename(osp.normpath(dir_b))
    if name_a == name_b:
        name_a, name_b = 'A', 'B'
    text = compare(a, b, name_a, name_b)
    out = out or osp.join(dir_b, 'compare.md')
    with open(out, 'w') as f:
        f.write(text)
    print(text + f'\nwritten to {out}')
    return 0
