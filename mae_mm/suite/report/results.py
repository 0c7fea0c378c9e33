"""A suite run's results, ``results.json``, from its manifest; the one schema every stage reports in::

    {"checkpoint": {"path", "sha256", "kind", "converted"},   # converted: our copy of an official/mmpretrain file
     "suite": "configs/suites/demo.py",
     "<stage>": {"<key>": value, ...}, ...}                   # stages: pretrain finetune linprobe coco ade20k

Each stage maps its suite ``metrics`` keys to the values as the metric reports them (top-1 and mIoU
in percent, COCO AP as mmdet's fraction). With a sweep or seeds a stage also holds ``points``
(``[{"overrides", "seed", "metrics"}]``) and ``chosen``: the overrides whose mean ``select`` metric
over seeds is best, with ``mean``, ``std`` (sample standard deviation; 0 for one seed) and ``n``;
the stage's values are then that point's means. ``pretrain`` is there only for one of our
pretraining checkpoints (an official or mmpretrain encoder has no reconstruction loss of ours).
With ``--random-init`` there is also ``"random_init": {"<stage>": {...}}``, the same entries for
the same transfer recipes from no checkpoint (a baseline for this recipe, not the paper's
from-scratch recipe). A study's results.json has its own schema: :mod:`.study`.
"""
import json
import math
import os.path as osp
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple

from ..plan.evaluates import best_overrides
from ..plan.graph import RANDOM_INIT

TABLE_SCALE = {'coco': 100.0, 'detection': 100.0}  # the tables show percent; mmdet reports COCO AP as a fraction
LABELS = {'pretrain': 'pretrain', 'finetune': 'fine-tune', 'linprobe': 'linear probe', 'partial': 'partial fine-tune',
          'coco': 'COCO', 'ade20k': 'ADE20K', 'detection': 'detection', 'segmentation': 'segmentation',
          'robustness': 'robustness', 'inat2017': 'iNat 2017',
          'inat2018': 'iNat 2018', 'inat2019': 'iNat 2019', 'places205': 'Places205', 'places365': 'Places365'}
POINT_KEYS = ('points', 'chosen')
RANDOM_INIT_LABEL = 'random init, this transfer recipe'  # the row (column) of the transfers from no checkpoint
RESULTS = 'results.json'


def _mean_std(values: List[Optional[float]]):
    """Mean and sample std of ``values``; (None, None) when one is None (not measured)."""
    if any(v is None for v in values):
        return None, None
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def stage_results(stage: Dict, points: List[Dict]) -> Dict:
    """One stage's entry of results.json from its done points (see the module docstring)."""
    keys = list(stage['metrics'])
    if len(points) == 1 and not points[0]['overrides'] and points[0]['seed'] is None:
        return {k: points[0]['metrics'][k] for k in keys}
    groups: Dict[str, List[Dict]] = {}
    for point in points:
        groups.setdefault(json.dumps(point['overrides'], sort_keys=True), []).append(point)
    summaries = []
    for group in groups.values():
        stats = {k: _mean_std([p['metrics'][k] for p in group]) for k in keys}
        summaries.append(dict(overrides=group[0]['overrides'], mean={k: s[0] for k, s in stats.items()},
                              std={k: s[1] for k, s in stats.items()}, n=len(group)))
    best, _ = best_overrides(stage, points)  # the rule an evaluation of this stage's checkpoints follows too
    chosen = next(s for s in summaries if s['overrides'] == best)
    out = dict(chosen['mean'])
    out['points'] = [dict(overrides=p['overrides'], seed=p['seed'], metrics=p['metrics']) for p in points]
    out['chosen'] = chosen
    return out


def _unprefixed(point: Dict) -> Dict:
    """A random-init point as the point of the same recipe from the checkpoint (name without its prefix)."""
    return dict(point, name=point['name'].partition('/')[2])


def collect(manifest: Dict) -> Dict:
    """results.json's content from a manifest whose points are all done or skipped."""
    results = dict(checkpoint={k: manifest['checkpoint'].get(k) for k in ('path', 'sha256', 'kind', 'converted')},
                   suite=manifest['suite']['path'])
    baseline = {}
    for name, record in manifest['stages'].items():
        done = [p for p in record['points'] if p['status'] == 'done' and p.get('upstream') != RANDOM_INIT]
        if done:
            results[name] = stage_results(record['stage'], done)
        scratch = [_unprefixed(p) for p in record['points']
                   if p['status'] == 'done' and p.get('upstream') == RANDOM_INIT]
        if scratch:
            baseline[name] = stage_results(record['stage'], scratch)
    if baseline:
        results['random_init'] = baseline
    return results


class Row(NamedTuple):
    """One metric of a suite run's table, in table units: ours (± std over seeds), the random-init
    baseline's (± std) where the run has it, and the cited figure."""

    label: str
    ours: float
    std: Optional[float]
    cited: Optional[float]
    random_init: Optional[float] = None
    random_init_std: Optional[float] = None


def _value(entry: Optional[Dict], key: str, scale: float) -> Tuple[Optional[float], Optional[float]]:
    if not entry or key not in entry:
        return None, None
    std = entry.get('chosen', {}).get('std', {}).get(key)
    if entry[key] is None:
        return None, None
    return entry[key] * scale, None if std is None else std * scale


def rows(manifest: Dict, results: Dict) -> Iterator[Row]:
    """A :class:`Row` per reported metric."""
    cited = manifest['suite'].get('cited', {})
    for name, record in manifest['stages'].items():
        if name not in results:
            continue
        scale = TABLE_SCALE.get(name, 1.0)
        unit = ' (%)' if name != 'pretrain' else ' (val, masked)'
        for key in record['stage']['metrics']:
            ours, std = _value(results[name], key, scale)
            scratch, scratch_std = _value(results.get('random_init', {}).get(name), key, scale)
            yield Row(f'{LABELS[name]} {key}{unit}', ours, std, cited.get(name, {}).get(key), scratch, scratch_std)


def read_results(work_dir: str) -> Dict:
    path = osp.join(work_dir, RESULTS)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist: has that suite run finished? (tools/transfer.py --status {work_dir})')
    with open(path) as f:
        return json.load(f)
