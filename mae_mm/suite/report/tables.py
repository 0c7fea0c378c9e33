"""The markdown tables: a run's ``results.md`` (ours against the cited figures) and ``--compare``
(two runs side by side), in table units (percent)."""
from typing import Dict

from .results import LABELS, POINT_KEYS, RANDOM_INIT_LABEL, TABLE_SCALE, rows


def _fmt(value) -> str:
    return '-' if value is None else f'{value:.4g}'


def _with_std(value, std) -> str:
    return _fmt(value) + (f' ± {std:.2g}' if std is not None else '')


def table(manifest: Dict, results: Dict) -> str:
    """results.md: ours (± the chosen point's std over seeds), the cited figure and the difference."""
    cited = manifest['suite'].get('cited', {})
    ckpt = results['checkpoint']
    baseline = 'random_init' in results
    extra = f' {RANDOM_INIT_LABEL} |' if baseline else ''
    lines = [f'Checkpoint: `{ckpt["path"]}` ({ckpt["kind"]}, sha256 {str(ckpt["sha256"])[:12]}); '
             f'suite `{results["suite"]}`.', '',
             f'| metric | ours |{extra} {cited.get("label", "cited")} | ours - cited |',
             '| --- | --- |' + (' --- |' if baseline else '') + ' --- | --- |']
    for row in rows(manifest, results):
        shown = _with_std(row.ours, row.std) if row.ours is not None else 'missing'  # not measured: results.json
        scratch = f' {_with_std(row.random_init, row.random_init_std)} |' if baseline else ''
        ref = row.cited
        difference = None if ref is None or row.ours is None else row.ours - ref
        lines.append(f'| {row.label} | {shown} |{scratch} {_fmt(ref)} | {_fmt(difference)} |')
    if cited.get('source'):
        lines += ['', f'Cited: {cited["source"]}.']
    chosen = [(n, r['chosen']) for n, r in results.items() if isinstance(r, dict) and 'chosen' in r]
    for name, pick in chosen:
        lines.append(f'{LABELS[name]}: best of the sweep {pick["overrides"] or "(no overrides)"}, '
                     f'mean over {pick["n"]} seed(s).')
    return '\n'.join(lines) + '\n'


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
