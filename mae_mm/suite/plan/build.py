"""One command's plan: the manifest it continues or starts, the points it runs, and the folders
``--replace`` discards first. Every refusal is raised here, before anything changes on disk."""
import time
from typing import Dict, List, NamedTuple, Optional

from ..errors import RunRefused
from ..request import SuiteRequest
from .checkpoint import checkpoint_kind, checkpoint_record, file_sha256
from .checks import check_before_running, check_work_dir
from .graph import build_stages, merge_previous, to_run
from .manifest import VERSION
from .points import parse_sweeps
from .suite import load_suite, pick_stages


class Plan(NamedTuple):
    """What one ``tools/transfer.py`` command does.

    Attributes:
        work_dir: The run's folder.
        manifest: The run's manifest, the previous run's state merged in (not written yet).
        points: The points to run, each stage after the stages it needs (records of ``manifest``).
        discard: Folders of another checkpoint's run that ``--replace`` removes first.
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
                  f'seed={p["seed"]} ({p["status"]})' for p in self.points]
        return lines + [f'{len(self.points)} point(s) to run; nothing was run (--dry-run)']


def make_plan(request: SuiteRequest, root: str, previous: Optional[Dict]) -> Plan:
    """The plan of ``request`` (its checkpoint exists) over ``previous``, the manifest already in
    its work dir (Slurm jobs polled) or None; suite configs are relative to ``root``."""
    suite = load_suite(request.suite, root)
    stages = pick_stages(suite, request.only)
    sweeps = parse_sweeps(request.sweeps)
    work_dir = request.resolved_work_dir()
    ckpt = checkpoint_record(request.checkpoint, previous)
    previous, discard = check_work_dir(work_dir, previous, ckpt, stages, request.replace)
    if previous is not None:
        ckpt.update(kind=previous['checkpoint']['kind'], converted=previous['checkpoint'].get('converted'))
        if request.launcher != previous['launcher']:
            raise RunRefused(f'{work_dir} was run with --launcher {previous["launcher"]}; use the same launcher')
    else:
        ckpt.update(kind=checkpoint_kind(request.checkpoint), converted=None)
    manifest = dict(version=VERSION, created=time.strftime('%Y-%m-%d %H:%M:%S'), checkpoint=ckpt,
                    suite=dict(path=request.suite, sha256=file_sha256(request.suite), cited=suite['cited']),
                    launcher=request.launcher, partition=request.partition,
                    stages=merge_previous(build_stages(stages, sweeps, request.seeds, ckpt['kind']), previous))
    if previous is not None:
        manifest['created'] = previous['created']
    points = [p for p in to_run(manifest, request.retry_failed) if p['stage'] in stages]
    if points:
        check_before_running(root, manifest, points)
    return Plan(work_dir, manifest, points, discard, previous is None)
