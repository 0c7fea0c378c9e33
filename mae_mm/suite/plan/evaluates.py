"""Stages that evaluate another stage's trained checkpoints: a suite stage with ``evaluates``
(the ``robustness`` stage tests the classifiers that the ``finetune`` stage trained).

Such a stage ``needs`` its source stage and has one point per chain of it: per seed, per
pretraining point of a study, per random-init seed (a chain is the source points sharing
``upstream`` and ``seed``). A point evaluates the checkpoint that the table reports for its
chain: of the source's sweep point whose mean ``select`` metric over the seeds of the same
``upstream`` is best (:func:`best_overrides`, the rule of the tables), the one of the point's own
seed, with that sweep point's overrides. The choice is made when the point runs, once every source
point it could choose from has ended; the point then records it as ``evaluated`` (``{'point',
'checkpoint', 'overrides'}``). Each point holds ``source``, the source stage's name.
"""
import json
import math
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Tuple

from ..errors import RunRefused
from .graph import RANDOM_INIT, point_record
from .manifest import ENDED, point_dir


def best_overrides(stage: Dict, points: List[Dict]) -> Tuple[Dict, List[Dict]]:
    """The overrides of ``points`` (done points of one stage) whose mean ``stage['select']``
    metric over seeds is best (lowest with ``lower_is_better``), and that group's points."""
    groups: Dict[str, List[Dict]] = {}
    for point in points:
        groups.setdefault(json.dumps(point['overrides'], sort_keys=True), []).append(point)
    sign = 1 if stage.get('lower_is_better') else -1

    def mean(group: List[Dict]) -> float:  # a metric not measured (None) ranks last
        values = [p['metrics'][stage['select']] for p in group]
        return math.inf if any(v is None for v in values) else sign * sum(values) / len(group)

    best = min(groups.values(), key=mean)
    return best[0]['overrides'], best


def chain(point: Dict) -> Tuple[Optional[str], Optional[int]]:
    """The chain a source point belongs to: ``(upstream, seed)``."""
    return point.get('upstream'), point['seed']


def chain_name(point: Dict, study: bool) -> str:
    """An evaluation point's name for the chain of ``point``: in a study, the pretraining point's
    (or random-init seed's) name, the prefix of the source point's; in a suite run ``seed=K``
    (``''`` without seeds), under ``random-init/`` for the random-init row."""
    if study:
        return point['name'].split('/')[0]
    seed = f'seed={point["seed"]}' if point['seed'] is not None else ''
    prefix = RANDOM_INIT if point.get('upstream') == RANDOM_INIT else ''
    return '/'.join(n for n in (prefix, seed) if n)


def evaluation_points(name: str, stage: Dict, source_points: List[Dict], study: bool) -> List[Dict]:
    """The pending points of evaluation stage ``name``: one per chain of ``source_points``."""
    points, seen = [], set()
    for source in source_points:
        if chain(source) in seen:
            continue
        seen.add(chain(source))
        record = point_record(dict(name=chain_name(source, study), overrides={}, seed=source['seed']), name, stage,
                              source.get('upstream'))
        record['source'] = stage['evaluates']
        points.append(record)
    return points


class Choice(NamedTuple):
    """Where an evaluation point stands: ``state`` is ``'ready'`` (``point``: the source point to
    evaluate), ``'waiting'`` (a source point it could choose has not ended) or ``'blocked'``
    (``reason``: the chain has no done point of the point's seed to evaluate)."""

    state: str
    point: Optional[Dict] = None
    reason: str = ''


def choose(manifest: Dict, point: Dict, retry_failed: bool = False) -> Choice:
    """The source point that evaluation ``point`` evaluates (see the module docstring); with
    ``retry_failed`` a failed source point has not ended (this command runs it again)."""
    source_name = point['source']
    record = manifest['stages'].get(source_name)
    if record is None:
        return Choice('blocked', reason=f'the run has no {source_name} stage')
    # the sweep's best is chosen over every seed of the same start (the run's checkpoint, random
    # init, or a study's pretraining point), as the table's
    members = [p for p in record['points'] if p.get('upstream') == point.get('upstream')]
    if not any(chain(p) == chain(point) for p in members):
        return Choice('blocked', reason=f'the {source_name} stage has no point of this chain')
    if any(p['status'] not in ENDED or retry_failed and p['status'] == 'failed' for p in members):
        return Choice('waiting', reason=f'waits for the {source_name} stage\'s points to end')
    done = [p for p in members if p['status'] == 'done']
    if not done:
        return Choice('blocked', reason=f'no {source_name} point of this chain is done '
                                        f'({", ".join(sorted({p["status"] for p in members}))})')
    overrides, group = best_overrides(record['stage'], done)
    mine = [p for p in group if p['seed'] == point['seed']]
    if not mine:
        return Choice('blocked', reason=f'the chosen {source_name} point ({overrides or "no overrides"}) has no done '
                                        f'point of seed {point["seed"]}')
    return Choice('ready', point=mine[0])


def trained_checkpoint(work_dir: str, manifest: Dict, source: Dict) -> str:
    """The checkpoint a done training point ended with (its ``last_checkpoint``)."""
    pointer = osp.join(point_dir(work_dir, manifest, source['stage'], source), 'last_checkpoint')
    if not osp.isfile(pointer):
        raise RunRefused(f'{source["stage"]} {source["name"] or "(default)"} is done but {pointer} is missing: '
                         'its checkpoint cannot be found')
    with open(pointer) as f:
        return f.read().strip()


def record_choice(work_dir: str, manifest: Dict, point: Dict, source: Dict, checkpoint: Optional[str] = None) -> None:
    """Records on ``point`` what it evaluates: ``source``'s checkpoint (``checkpoint`` when it is
    not written yet) with its overrides."""
    point['evaluated'] = dict(point=source['name'], overrides=source['overrides'],
                              checkpoint=checkpoint or trained_checkpoint(work_dir, manifest, source))


def block_evaluations(manifest: Dict, retry_failed: bool = False) -> None:
    """Decides again, for every evaluation point, whether it can run: ``skipped`` (``blocked``)
    when its chain has no done point to evaluate, pending again when it was skipped so and now
    has one (or will: ``retry_failed``), and pending again when it is done on another source point
    than the one the table now reports (a later sweep point of its chain is better)."""
    for record in manifest['stages'].values():
        for point in record['points']:
            if not point.get('source'):
                continue
            if point['status'] == 'skipped' and point.get('blocked'):
                point.update(status='pending', reason=None, blocked=False)
            choice = choose(manifest, point, retry_failed)
            if point['status'] == 'pending' and choice.state == 'blocked':
                point.update(status='skipped', reason=choice.reason, blocked=True)
            elif point['status'] == 'done' and choice.state == 'ready' and \
                    (point.get('evaluated') or {}).get('point') != choice.point['name']:
                point.update(status='pending', metrics=None,
                             reason=f'the {point["source"]} point to evaluate is now {choice.point["name"]}')


def require_sources(manifest: Dict, points: List[Dict], running: set) -> None:
    """Refuses evaluation ``points`` whose source stage this command does not run and whose
    chain has not ended: ``--only robustness`` before the fine-tuning it evaluates."""
    for point in points:
        source = point.get('source')
        if not source or source in running:
            continue
        choice = choose(manifest, point)
        if choice.state != 'ready':
            raise RunRefused(f'stage {point["stage"]} evaluates the {source} stage\'s checkpoints, and for '
                             f'{point["name"] or "the run"} it {choice.reason}: run the {source} stage first '
                             f'(--only {source}, or without --only)')


def add_evaluation_stages(stages: Dict, suite_stages: Dict, study: bool) -> None:
    """Adds to a manifest's ``stages`` (this command's grid, the previous run's state merged in)
    each evaluation stage of ``suite_stages`` (this command's), one point per chain of its source
    stage as the manifest holds it; a point that already ran under the same name keeps its state.
    Refuses a source stage the run does not have."""
    for name, stage in suite_stages.items():
        source = stage.get('evaluates')
        if not source:
            continue
        if source not in stages:
            raise RunRefused(f'stage {name} evaluates the {source} stage\'s checkpoints, which this run has not '
                             f'trained: run the {source} stage first (--only {source}, or without --only)')
        before = {p['name']: p for p in stages.get(name, {}).get('points', [])}
        points = []
        for point in evaluation_points(name, stage, stages[source]['points'], study):
            old = before.pop(point['name'], None)
            points.append(old if old is not None and chain(old) == chain(point) else point)
        points += [p for p in before.values() if p['status'] in ENDED]
        stages[name] = dict(stage=stage, needs=[source], points=points)
