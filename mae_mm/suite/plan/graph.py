"""The run as a graph of stages: each stage's points and what the stage needs before it can run.

A stage record of the manifest is ``{'stage': suite stage, 'needs': [...], 'points': [...]}``.
``needs`` names the nodes a stage starts from: :data:`~.manifest.CHECKPOINT` (the run's input
checkpoint, converted when it is not ours) or another stage of the run. Every stage of today's
suites, the evaluation-only ``pretrain`` and each transfer, needs the checkpoint alone; a stage
that evaluates another stage's checkpoint (a fine-tune's, say) names that stage, and :func:`order`
puts it after.
"""
from typing import Dict, List, Optional

from ..console import say
from ..errors import RunRefused
from .manifest import CHECKPOINT, ENDED, interrupt_if_gone, iter_points
from .points import grid


def build_stages(stages: Dict, sweeps: Dict, seeds: Optional[int], kind: str) -> Dict:
    """The manifest's ``stages`` for the suite ``stages`` with every point pending. A training
    stage gets the sweep grid times the seeds; an evaluation-only stage one point, skipped for a
    checkpoint that is not ours (``kind``)."""
    out = {}
    for name, stage in stages.items():
        points = grid(sweeps, seeds) if stage['train'] else grid({}, None)
        records = []
        for p in points:
            record = dict(p, stage=name, config=stage['config'], status='pending', reason=None, metrics=None,
                          job_id=None, log=None, pid=None, host=None)
            if not stage['train'] and kind != 'mae_mm':
                record.update(status='skipped', reason=f'a {kind} checkpoint: no reconstruction loss of ours')
            records.append(record)
        out[name] = dict(stage=stage, needs=[CHECKPOINT], points=records)
    return out


def merge_previous(new: Dict, previous: Optional[Dict]) -> Dict:
    """Keeps the previous run's state for the points it has; a point whose config, overrides or seed
    changed under the same name is refused (its folder holds the other one). Earlier points outside
    this command's grid stay in the run (a second ``--sweep`` extends the grid) when they ended or
    still run; ones that never ran or were interrupted are dropped, so this command does not run them."""
    if previous is None:
        return new
    for name, record in new.items():
        old = {p['name']: p for p in previous['stages'].get(name, {}).get('points', [])}
        for i, point in enumerate(record['points']):
            before = old.pop(point['name'], None)
            if before is None:
                continue
            for key in ('config', 'overrides', 'seed'):
                if before[key] != point[key]:
                    raise RunRefused(f'stage {name} point {point["name"] or "(default)"} ran with {key}={before[key]!r}; '
                                     f'now {point[key]!r}: use another --work-dir')
            record['points'][i] = before
        kept = [p for p in old.values() if p['status'] in ENDED + ('running',)]
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


def to_run(manifest: Dict, retry_failed: bool) -> List[Dict]:
    """The points this command runs, stage after the stages it needs: pending and interrupted ones
    (a local point whose transfer.py is gone is interrupted), failed ones with ``retry_failed``.
    Refuses while a point still runs."""
    for _, point in iter_points(manifest):
        interrupt_if_gone(manifest, point)
        if point['status'] == 'running':
            raise RunRefused(f'{point["stage"]} {point["name"]} is running (pid {point["pid"]}, '
                             f'job {point["job_id"]}): wait for it, or follow it with --status')
    runnable = ('pending', 'interrupted') + (('failed',) if retry_failed else ())
    return [p for name in order(manifest['stages']) for p in manifest['stages'][name]['points']
            if p['status'] in runnable]


def starting_weights(manifest: Dict, name: str) -> str:
    """The checkpoint stage ``name`` starts from: the run's (its converted copy for an official or
    mmpretrain file)."""
    needs = manifest['stages'][name]['needs']
    if needs != [CHECKPOINT]:
        raise RunRefused(f'stage {name} needs {needs}: this tool starts stages from the run checkpoint only')
    return manifest['checkpoint']['converted'] or manifest['checkpoint']['path']
