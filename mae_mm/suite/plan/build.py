"""One command's plan: the manifest it continues or starts, the points it runs, and the folders
``--replace`` discards first. Every refusal is raised here, before anything changes on disk.

A suite run starts from one checkpoint; a study (``request.pretrain``) pretrains its grid first
(:mod:`.study`)."""
import time
from typing import Dict, List, NamedTuple, Optional

from ..errors import RunRefused
from ..request import SuiteRequest
from .checkpoint import checkpoint_kind, checkpoint_record, file_sha256
from .checks import check_before_running, check_work_dir
from .evaluates import add_evaluation_stages, block_evaluations, require_sources
from .graph import build_stages, merge_previous, to_run
from .manifest import PRETRAINING, VERSION
from .points import parse_sweeps, sweep_scopes
from .study import check_transfers_fit, pretraining_stage, study_record, study_stages
from .suite import load_suite, pick_stages


class Plan(NamedTuple):
    """What one ``tools/transfer.py`` command does.

    Attributes:
        work_dir: The run's folder.
        manifest: The run's manifest, the previous run's state merged in (not written yet).
        points: The points to run, each stage after the stages it needs (records of ``manifest``).
        discard: Folders of another run that ``--replace`` removes first.
        fresh: Whether ``work_dir`` held no run to continue.
    """

    work_dir: str
    manifest: Dict
    points: List[Dict]
    discard: List[str]
    fresh: bool

    def describe(self) -> List[str]:
        """The ``--dry-run`` lines: what would be discarded and run."""
        lines = [f'would discard {", ".join(self.discard)} (--replace)'] if self.discard else []
        lines += [f'would run {p["stage"]} {p["name"] or "(default)"}: {p["config"]} overrides={p["overrides"]} '
                  f'seed={p["seed"]}{_start(p)} ({p["status"]})' for p in self.points]
        return lines + [f'{len(self.points)} point(s) to run; nothing was run (--dry-run)']


def _start(point: Dict) -> str:
    return f' from {point["upstream"]}' if point.get('upstream') else ''


def _header(request: SuiteRequest, suite: Dict) -> Dict:
    return dict(version=VERSION, created=time.strftime('%Y-%m-%d %H:%M:%S'),
                suite=dict(path=request.suite, sha256=file_sha256(request.suite), cited=suite['cited']),
                launcher=request.launcher, partition=request.partition)


def _continue(manifest: Dict, previous: Optional[Dict], work_dir: str, launcher: str) -> None:
    if previous is not None:
        if launcher != previous['launcher']:
            raise RunRefused(f'{work_dir} was run with --launcher {previous["launcher"]}; use the same launcher')
        manifest['created'] = previous['created']


def _merge_study(study: Dict, previous: Optional[Dict]) -> Dict:
    """The study record once an earlier command's grid is kept too: swept values and defaults joined."""
    if previous is None:
        return study
    before = previous['study']
    sweeps = {k: list(v) for k, v in before['sweeps'].items()}
    for key, values in study['sweeps'].items():
        sweeps[key] = sweeps.get(key, []) + [v for v in values if v not in sweeps.get(key, [])]
    return dict(study, sweeps=sweeps, defaults={**before['defaults'], **study['defaults']},
                random_init=study['random_init'] or before['random_init'])


def make_plan(request: SuiteRequest, root: str, previous: Optional[Dict]) -> Plan:
    """The plan of ``request`` (its checkpoint exists, for a suite run) over ``previous``, the
    manifest already in its work dir (Slurm jobs polled) or None; suite configs are relative to ``root``."""
    suite = load_suite(request.suite, root)
    stages = pick_stages(suite, request.only)
    sweeps = parse_sweeps(request.sweeps)
    unknown = [s for s in sweep_scopes(sweeps) if s not in stages]
    if unknown:
        raise RunRefused(f'--sweep: {", ".join(f"{s}:" for s in unknown)} names no stage this command runs '
                         f'({", ".join(stages)})')
    work_dir = request.resolved_work_dir()
    manifest = _header(request, suite)
    if request.pretrain:
        pretrain_sweeps = parse_sweeps(request.pretrain_sweeps, '--pretrain-sweep')
        if sweep_scopes(pretrain_sweeps):
            raise RunRefused(f'--pretrain-sweep: {sweep_scopes(pretrain_sweeps)}: the pretraining grid takes no '
                             'STAGE: prefix (--sweep STAGE:KEY=... sweeps a transfer stage)')
        manifest.update(checkpoint=None, study=study_record(request.pretrain, pretrain_sweeps, request.seeds,
                                                            request.random_init))
        named = dict(stages, **{PRETRAINING: pretraining_stage(manifest['study'])})
        previous, discard = check_work_dir(work_dir, previous, manifest, named, request.replace)
        _continue(manifest, previous, work_dir, request.launcher)
        manifest['study'] = _merge_study(manifest['study'], previous)
        manifest['stages'] = merge_previous(study_stages(work_dir, manifest['study'], stages, sweeps), previous)
        add_evaluation_stages(manifest['stages'], stages, study=True)
        running = set(stages) | {PRETRAINING}
    else:
        if request.pretrain_sweeps:
            raise RunRefused('--pretrain-sweep needs --pretrain CONFIG (a study), not a checkpoint')
        manifest['checkpoint'] = checkpoint_record(request.checkpoint, previous)
        previous, discard = check_work_dir(work_dir, previous, manifest, stages, request.replace)
        _continue(manifest, previous, work_dir, request.launcher)
        ckpt = manifest['checkpoint']
        if previous is not None:
            ckpt.update(kind=previous['checkpoint']['kind'], converted=previous['checkpoint'].get('converted'))
        else:
            ckpt.update(kind=checkpoint_kind(request.checkpoint), converted=None)
        manifest['stages'] = merge_previous(build_stages(stages, sweeps, request.seeds, ckpt['kind'],
                                                         request.random_init), previous)
        add_evaluation_stages(manifest['stages'], stages, study=False)
        running = set(stages)
    block_evaluations(manifest, request.retry_failed)
    points = [p for p in to_run(manifest, request.retry_failed) if p['stage'] in running]
    require_sources(manifest, points, running)
    if points:
        check_before_running(root, manifest, points)
        if request.pretrain:
            check_transfers_fit(manifest['study'], manifest['stages'][PRETRAINING]['points'], stages, root)
    return Plan(work_dir, manifest, points, discard, previous is None)
