"""The run as a graph of stages: each stage's points and what the stage needs before it can run.

A stage record of the manifest is ``{'stage': suite stage, 'needs': [...], 'points': [...]}``.
``needs`` names the nodes a stage starts from: :data:`~.manifest.CHECKPOINT` (the run's input
checkpoint, converted when it is not ours) or another stage of the run, and :func:`order` puts it
after them. In a suite run every stage needs the checkpoint alone. In a study
(:mod:`.study`) the transfer stages need :data:`~.manifest.PRETRAINING`, and each of their points
names the pretraining point it starts from, its ``upstream``: a point runs once that one is done,
and is ``skipped`` (``blocked_by`` it) when that one ended otherwise.

A point whose ``upstream`` is :data:`RANDOM_INIT` starts from no checkpoint at all (the random-init
row: the same transfer recipe from the backbone's own initialisation).
"""
from typing import Dict, List, Optional

from ..console import say
from ..errors import RunRefused
from .manifest import CHECKPOINT, ENDED, PRETRAINING, interrupt_if_gone, iter_points, process_gone
from .points import grid, sweeps_of_stage

RANDOM_INIT = 'random-init'  # a point's upstream (and its name's prefix) in the random-init row


def point_record(point: Dict, stage_name: str, stage: Dict, upstream: Optional[str] = None) -> Dict:
    """A manifest point, pending, from a grid point (``name``, ``overrides``, ``seed``)."""
    return dict(point, stage=stage_name, config=stage['config'], upstream=upstream, status='pending', reason=None,
                metrics=None, job_id=None, log=None, pid=None, host=None)


def random_init_points(sweeps: Dict, seeds: Optional[int]) -> List[Dict]:
    """The random-init row's grid points of a training stage: ``random-init[/<point>]``."""
    return [dict(p, name='/'.join(n for n in (RANDOM_INIT, p['name']) if n)) for p in grid(sweeps, seeds)]


def build_stages(stages: Dict, sweeps: Dict, seeds: Optional[int], kind: str, random_init: bool = False) -> Dict:
    """The manifest's ``stages`` for the suite ``stages`` with every point pending. A training
    stage gets the sweep grid (its keys: :func:`~.points.sweeps_of_stage`) times the seeds, and
    with ``random_init`` the same points again from no checkpoint; an evaluation-only stage one
    point, skipped for a checkpoint that is not ours (``kind``). A stage that evaluates another
    stage's checkpoints is left out (:func:`~.evaluates.add_evaluation_stages` adds it)."""
    out = {}
    for name, stage in stages.items():
        if stage.get('evaluates'):  # its points follow its source's: mae_mm.suite.plan.evaluates
            continue
        own = sweeps_of_stage(sweeps, name)
        records = [point_record(p, name, stage) for p in (grid(own, seeds) if stage['train'] else grid({}, None))]
        if not stage['train'] and kind != 'mae_mm':
            for record in records:
                record.update(status='skipped', reason=f'a {kind} checkpoint: no reconstruction loss of ours')
        if random_init and stage['train']:
            records += [point_record(p, name, stage, RANDOM_INIT) for p in random_init_points(own, seeds)]
        out[name] = dict(stage=stage, needs=[CHECKPOINT], points=records)
    return out


def merge_previous(new: Dict, previous: Optional[Dict]) -> Dict:
    """Keeps the previous run's state for the points it has; a point whose config, overrides or seed
    changed under the same name is refused (its folder holds the other one). Earlier points outside
    this command's grid stay in the run (a second ``--sweep`` extends the grid) when they ended or
    still run; ones that never ran or were interrupted (a local one whose transfer.py is gone
    included) are dropped, so this command does not run them."""
    if previous is None:
        return new
    for name, record in new.items():
        old = {p['name']: p for p in previous['stages'].get(name, {}).get('points', [])}
        for i, point in enumerate(record['points']):
            before = old.pop(point['name'], None)
            if before is None:
                continue
            before.setdefault('upstream', None)
            for key in ('config', 'overrides', 'seed', 'upstream'):
                if before[key] != point[key]:
                    raise RunRefused(f'stage {name} point {point["name"] or "(default)"} ran with {key}={before[key]!r}; '
                                     f'now {point[key]!r}: use another --work-dir')
            record['points'][i] = before
        kept = [p for p in old.values()
                if p['status'] in ENDED or (p['status'] == 'running' and not process_gone(previous, p))]
        if kept:
            say(f'{name}: keeping {len(kept)} earlier point(s) outside this grid '
                f'({", ".join(p["name"] or "(default)" for p in kept)})')
            record['points'].extend(kept)
    for name, record in previous['stages'].items():  # stages left out by --only stay in the manifest
        new.setdefault(name, record)
    return new


def order(stages: Dict) -> List[str]:
    """The stage names of a manifest's ``stages`` with every stage after the ones it needs (the
    manifest's order where it is free); refuses a need that is neither the checkpoint nor a stage
    of the run, and a cycle."""
    done: List[str] = []
    waiting = list(stages)
    while waiting:
        ready = [n for n in waiting if all(need == CHECKPOINT or need in done for need in stages[n]['needs'])]
        if not ready:
            unknown = {n: [m for m in stages[n]['needs'] if m != CHECKPOINT and m not in stages] for n in waiting}
            named = {n: m for n, m in unknown.items() if m}
            raise RunRefused(f'stages that need what the run does not have: {named}' if named
                             else f'stages that need each other: {waiting}')
        done += ready
        waiting = [n for n in waiting if n not in ready]
    return done


def upstream_point(manifest: Dict, point: Dict) -> Optional[Dict]:
    """The pretraining point ``point`` starts from (None for the run's checkpoint or random init)."""
    upstream = point.get('upstream')
    if not upstream or upstream == RANDOM_INIT:
        return None
    for candidate in manifest['stages'][PRETRAINING]['points']:
        if candidate['name'] == upstream:
            return candidate
    raise RunRefused(f'{point["stage"]} {point["name"]} starts from pretraining point {upstream}, which the run lacks')


def to_run(manifest: Dict, retry_failed: bool) -> List[Dict]:
    """The points this command runs, stage after the stages it needs: pending and interrupted ones
    (a local point whose transfer.py is gone is interrupted), failed ones with ``retry_failed``,
    and skipped ones that were waiting on a pretraining point that now runs again (or is done).
    Refuses while a point still runs."""
    for _, point in iter_points(manifest):
        interrupt_if_gone(manifest, point)
        if point['status'] == 'running':
            raise RunRefused(f'{point["stage"]} {point["name"]} is running (pid {point["pid"]}, '
                             f'job {point["job_id"]}): wait for it, or follow it with --status')
    runnable = ('pending', 'interrupted') + (('failed',) if retry_failed else ())
    for _, point in iter_points(manifest):
        upstream = upstream_point(manifest, point) if point.get('blocked_by') else None
        if point['status'] == 'skipped' and upstream is not None and upstream['status'] in runnable + ('done',):
            point.update(status='pending', reason=None, blocked_by=None)
    return [p for name in order(manifest['stages']) for p in manifest['stages'][name]['points']
            if p['status'] in runnable]


def point_weights(manifest: Dict, point: Dict) -> Optional[str]:
    """The checkpoint a point starts from: its pretraining point's final one in a study, none in the
    random-init row (nor for a study's pretraining itself), else the run's (its converted copy for
    an official or mmpretrain file)."""
    if point.get('upstream') == RANDOM_INIT or point['stage'] == PRETRAINING:
        return None
    upstream = upstream_point(manifest, point)
    if upstream is not None:
        return upstream['checkpoint']
    if manifest['stages'][point['stage']]['needs'] != [CHECKPOINT]:
        raise RunRefused(f'stage {point["stage"]} needs {manifest["stages"][point["stage"]]["needs"]} '
                         'but its point names no pretraining point')
    return manifest['checkpoint']['converted'] or manifest['checkpoint']['path']


def block_dependants(manifest: Dict) -> List[Dict]:
    """Marks ``skipped`` (``blocked_by`` the pretraining point) every point still waiting on a
    pretraining point that ended without its checkpoint: interrupted, failed or skipped. Returns the
    points that had a Slurm job (still queued behind a dependency that can no longer be met, or
    cancelled by Slurm for it): the caller cancels them. The next command runs them again behind the
    new pretraining job (:func:`to_run`)."""
    if PRETRAINING not in manifest['stages']:
        return []
    cancelled = []
    for _, point in iter_points(manifest):
        upstream = upstream_point(manifest, point)
        if upstream is None or upstream['status'] not in ('interrupted', 'failed', 'skipped'):
            continue
        if point['status'] not in ('pending', 'running', 'interrupted'):
            continue
        if point['status'] in ('running', 'interrupted') and point.get('job_id'):
            cancelled.append(point)
        again = ('the next run resubmits it behind the resumed pretraining' if upstream['status'] == 'interrupted'
                 else 'it runs again when that point does (--retry-failed)')
        point.update(status='skipped', blocked_by=upstream['name'],
                     reason=f'pretraining {upstream["name"]} ended {upstream["status"]}: {again}')
    return cancelled
