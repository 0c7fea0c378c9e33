"""A study's results (``tools/transfer.py --pretrain CONFIG --pretrain-sweep ...``): one row per
pretraining setting, one column per transfer metric, each cell the mean ± std over seeds.

results.json of a study::

    {"study": {"config", "sha256", "suite", "sweeps": {key: [values]}, "defaults": {key: value},
               "seeds": N or null, "random_init": bool},
     "columns": [{"id": "finetune/top1", "stage": "finetune", "transfer": {key: value}, "key": "top1",
                  "label": "fine-tune top1 (%)", "scale": 1.0, "lower_is_better": false}],
     "rows": [{"label": "mask_ratio=0.75", "setting": {"model.encoder.mask_ratio": 0.75},
               "default": true, "random_init": false, "pretraining": ["mask_ratio=0.75_seed=0", ...],
               "cells": {"<column id>": {"mean", "std", "n", "values"}},
               "missing": ["<column id>", ...]}]}   # only where a value was not measured (no mean)

A row is a setting of the swept pretraining keys (its seeds pooled); ``default`` marks the row whose
setting is the config's own (the paper's grey rows), and the random-init row (``random_init``) holds
the same transfer recipes trained from no checkpoint. A column is a stage's metric, one per point of
that stage's own transfer sweep (``transfer``: its overrides, e.g. partial fine-tuning's number of
blocks). ``values`` are as the metric reports them (COCO AP a fraction); ``scale`` turns them into
the table's units. ``std`` is the sample standard deviation (0 for one value); ``n`` the values' count.
"""
import json
from typing import Dict, List, Optional

from ..plan.graph import RANDOM_INIT
from ..plan.manifest import PRETRAINING
from .results import LABELS, RANDOM_INIT_LABEL, TABLE_SCALE, _mean_std


def short(key: str, value) -> str:
    """``model.encoder.mask_ratio``, 0.75 -> ``mask_ratio=0.75``."""
    return f'{key.rsplit(".", 1)[-1]}={value}'


def column_id(stage: str, transfer: Dict, key: str) -> str:
    """A column's id: ``stage[/<its transfer overrides as JSON>]/key``."""
    return f'{stage}{"/" + json.dumps(transfer, sort_keys=True) if transfer else ""}/{key}'


def _columns(manifest: Dict) -> List[Dict]:
    columns, seen = [], set()
    for name, record in manifest['stages'].items():
        if name == PRETRAINING:
            continue
        stage = record['stage']
        for point in record['points']:
            transfer = point['overrides'] if stage['train'] else {}
            for key in stage['metrics']:
                suffix = ''.join(f' {short(k, v)}' for k, v in transfer.items())
                cid = column_id(name, transfer, key)
                if cid in seen:
                    continue
                seen.add(cid)
                unit = ' (%)' if name != 'pretrain' else ' (val, masked)'
                columns.append(dict(id=cid, stage=name, transfer=transfer, key=key,
                                    label=f'{LABELS[name]}{suffix} {key}{unit}', scale=TABLE_SCALE.get(name, 1.0),
                                    lower_is_better=bool(stage.get('lower_is_better'))))
    return columns


def _rows(manifest: Dict) -> List[Dict]:
    study = manifest['study']
    rows: Dict[str, Dict] = {}
    for point in manifest['stages'][PRETRAINING]['points']:
        setting = point['overrides']
        key = json.dumps(setting, sort_keys=True)
        row = rows.setdefault(key, dict(
            label=', '.join(short(k, v) for k, v in setting.items()) or 'the config as is', setting=setting,
            default=all(study['defaults'].get(k) == v for k, v in setting.items()), random_init=False,
            pretraining=[], cells={}))
        row['pretraining'].append(point['name'])
    if any(p.get('upstream') == RANDOM_INIT for r in manifest['stages'].values() for p in r['points']):
        rows['random-init'] = dict(label=RANDOM_INIT_LABEL, setting={}, default=False, random_init=True,
                                   pretraining=[], cells={})
    return list(rows.values())


def collect_study(manifest: Dict) -> Dict:
    """A study's results.json content (see the module docstring) from its manifest's done points."""
    study = dict(manifest['study'], suite=manifest['suite']['path'])
    columns, rows = _columns(manifest), _rows(manifest)
    row_of = {name: row for row in rows for name in row['pretraining']}
    values: Dict[tuple, List[float]] = {}
    for name, record in manifest['stages'].items():
        if name == PRETRAINING:
            continue
        for point in (p for p in record['points'] if p['status'] == 'done'):
            row = rows[-1] if point.get('upstream') == RANDOM_INIT else row_of.get(point.get('upstream'))
            if row is None:
                continue
            transfer = point['overrides'] if record['stage']['train'] else {}
            for key, value in point['metrics'].items():
                values.setdefault((id(row), column_id(name, transfer, key)), []).append(value)
    for row in rows:
        for column in columns:
            found = values.get((id(row), column['id']))
            if found:
                mean, std = _mean_std(found)
                if mean is None:  # a value not measured (an ImageNet-C copy without a corruption): no mean
                    row.setdefault('missing', []).append(column['id'])
                    continue
                row['cells'][column['id']] = dict(mean=mean, std=std, n=len(found), values=found)
    return dict(study=study, columns=columns, rows=rows)


def _cell(cell: Optional[Dict], scale: float) -> str:
    if not cell:
        return '-'
    return f'{cell["mean"] * scale:.4g} ± {cell["std"] * scale:.2g} ({cell["n"]})'


def study_table(results: Dict) -> str:
    """results.md of a study: a row per setting (the config's own in bold), a column per metric."""
    study, columns = results['study'], results['columns']
    swept = ', '.join(study['sweeps']) or 'nothing (one setting)'
    seeds = f'{study["seeds"]} seed(s) per setting' if study['seeds'] else "the configs' own seed"
    lines = [f'Study of `{study["config"]}` (sha256 {study["sha256"][:12]}) through the suite `{study["suite"]}`: '
             f'pretraining swept over {swept}; {seeds}.', '',
             'Cells: mean ± std (n) over seeds. **Bold**: the config\'s own setting (the paper\'s grey rows).'
             + (f' "{RANDOM_INIT_LABEL}": the same transfer recipes from no checkpoint, a baseline for these '
                'recipes (not the paper\'s from-scratch recipe, which trains longer).' if study['random_init'] else ''),
             '', '| setting | ' + ' | '.join(c['label'] for c in columns) + ' |',
             '| --- |' + ' --- |' * len(columns)]
    for row in results['rows']:
        label = f'**{row["label"]} (default)**' if row['default'] and study['sweeps'] else row['label']
        cells = ['missing' if c['id'] in row.get('missing', ()) else _cell(row['cells'].get(c['id']), c['scale'])
                 for c in columns]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
