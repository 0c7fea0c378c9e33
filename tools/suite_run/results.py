"""A suite run's outputs: ``results.json`` (schema below), ``results.md``, ``results.png``, and the
side-by-side table of two runs.

``results.json``::

    {"checkpoint": {"path", "sha256", "kind", "converted"},   # converted: our copy of an official/mmpretrain file
     "suite": "configs/suites/demo.py",
     "<stage>": {"<key>": value, ...}, ...}                   # stages: pretrain finetune linprobe coco ade20k

Each stage maps its suite ``metrics`` keys to the values as the metric reports them (top-1 and mIoU
in percent, COCO AP as mmdet's fraction). With a sweep or seeds a stage also holds ``points``
(``[{"overrides", "seed", "metrics"}]``) and ``chosen``: the overrides whose mean ``select`` metric
over seeds is best, with ``mean``, ``std`` (sample standard deviation; 0 for one seed) and ``n``;
the stage's values are then that point's means. ``pretrain`` is there only for one of our
pretraining checkpoints (an official or mmpretrain encoder has no reconstruction loss of ours).
"""
import json
import math
import os.path as osp
from typing import Dict, List

TABLE_SCALE = {'coco': 100.0}  # the tables show percent; mmdet reports COCO AP as a fraction
LABELS = {'pretrain': 'pretrain', 'finetune': 'fine-tune', 'linprobe': 'linear probe', 'coco': 'COCO',
          'ade20k': 'ADE20K'}
POINT_KEYS = ('points', 'chosen')


def _mean_std(values: List[float]):
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
    sign = 1 if stage.get('lower_is_better') else -1
    chosen = min(summaries, key=lambda s: sign * s['mean'][stage['select']])
    out = dict(chosen['mean'])
    out['points'] = [dict(overrides=p['overrides'], seed=p['seed'], metrics=p['metrics']) for p in points]
    out['chosen'] = chosen
    return out


def collect(manifest: Dict) -> Dict:
    """results.json's content from a manifest whose points are all done or skipped."""
    results = dict(checkpoint={k: manifest['checkpoint'].get(k) for k in ('path', 'sha256', 'kind', 'converted')},
                   suite=manifest['suite']['path'])
    for name, record in manifest['stages'].items():
        done = [p for p in record['points'] if p['status'] == 'done']
        if done:
            results[name] = stage_results(record['stage'], done)
    return results


def _fmt(value) -> str:
    return '-' if value is None else f'{value:.4g}'


def _rows(manifest: Dict, results: Dict):
    """(label, ours in table units, std or None, cited or None) per reported metric."""
    cited = manifest['suite'].get('cited', {})
    for name, record in manifest['stages'].items():
        if name not in results:
            continue
        scale = TABLE_SCALE.get(name, 1.0)
        unit = ' (%)' if name != 'pretrain' else ' (val, masked)'
        for key in record['stage']['metrics']:
            std = results[name].get('chosen', {}).get('std', {}).get(key)
            yield (f'{LABELS[name]} {key}{unit}', results[name][key] * scale,
                   None if std is None else std * scale, cited.get(name, {}).get(key))


def table(manifest: Dict, results: Dict) -> str:
    """results.md: ours (± the chosen point's std over seeds), the cited figure and the difference."""
    cited = manifest['suite'].get('cited', {})
    ckpt = results['checkpoint']
    lines = [f'Checkpoint: `{ckpt["path"]}` ({ckpt["kind"]}, sha256 {str(ckpt["sha256"])[:12]}); '
             f'suite `{results["suite"]}`.', '',
             f'| metric | ours | {cited.get("label", "cited")} | ours - cited |', '| --- | --- | --- | --- |']
    for label, ours, std, ref in _rows(manifest, results):
        shown = _fmt(ours) + (f' ± {std:.2g}' if std is not None else '')
        lines.append(f'| {label} | {shown} | {_fmt(ref)} | {_fmt(None if ref is None else ours - ref)} |')
    if cited.get('source'):
        lines += ['', f'Cited: {cited["source"]}.']
    chosen = [(n, r['chosen']) for n, r in results.items() if isinstance(r, dict) and 'chosen' in r]
    for name, pick in chosen:
        lines.append(f'{LABELS[name]}: best of the sweep {pick["overrides"] or "(no overrides)"}, '
                     f'mean over {pick["n"]} seed(s).')
    return '\n'.join(lines) + '\n'


def bar_chart(manifest: Dict, results: Dict, out: str) -> None:
    """results.png: ours against the cited figure, one pair of bars per metric (pretrain loss left out)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = [r for r in _rows(manifest, results) if not r[0].startswith('pretrain')]
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(rows)), 3.2))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r[1] for r in rows], 0.4, yerr=[r[2] or 0 for r in rows], label='ours')
    ax.bar([x + 0.2 for x in xs], [r[3] or 0 for r in rows], 0.4, label='cited')
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r[0].replace(' (%)', '') for r in rows], fontsize=7, rotation=20)
    ax.set_ylabel('%')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def compare(results_a: Dict, results_b: Dict, name_a: str, name_b: str) -> str:
    """A side-by-side markdown table of two results.json (table units), with B - A."""
    lines = [f'| metric | {name_a} | {name_b} | {name_b} - {name_a} |', '| --- | --- | --- | --- |']
    stages = [s for s in LABELS if s in results_a or s in results_b]
    for stage in stages:
        a, b = results_a.get(stage, {}), results_b.get(stage, {})
        scale = TABLE_SCALE.get(stage, 1.0)
        for key in [k for k in {**a, **b} if k not in POINT_KEYS]:
            va = a.get(key) * scale if key in a else None
            vb = b.get(key) * scale if key in b else None
            diff = vb - va if va is not None and vb is not None else None
            lines.append(f'| {LABELS[stage]} {key} | {_fmt(va)} | {_fmt(vb)} | {_fmt(diff)} |')
    lines += ['', f'{name_a}: `{results_a["checkpoint"]["path"]}` (sha256 {results_a["checkpoint"]["sha256"][:12]})',
              f'{name_b}: `{results_b["checkpoint"]["path"]}` (sha256 {results_b["checkpoint"]["sha256"][:12]})']
    return '\n'.join(lines) + '\n'


def read_results(work_dir: str) -> Dict:
    path = osp.join(work_dir, 'results.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist: has that suite run finished? (tools/transfer.py --status {work_dir})')
    with open(path) as f:
        return json.load(f)
