"""Where every point of a suite run stands, one line each (``tools/transfer.py --status``); a
study's first as a grid, a row per pretraining point (and random-init seed), a column per stage."""
from typing import Dict, List

from ..execute.logs import train_progress
from ..plan.manifest import PRETRAINING, interrupt_if_gone, iter_points, point_log


def _progress(work_dir: str, manifest: Dict, name: str, point: Dict) -> str:
    """``job 12 PENDING: JobHeldUser, starting``: the job, its state and why it waits, then where
    training is (mmengine's ETA)."""
    where = train_progress(point_log(work_dir, manifest, name, point))
    job = f'job {point["job_id"]} {point.get("slurm_state") or ""}'.strip()
    job += f': {point["slurm_reason"]}' if point.get('slurm_reason') else ''
    return ', '.join(([job] if point.get('job_id') else []) + [where or 'starting'])


def status_lines(work_dir: str, manifest: Dict) -> List[str]:
    """``stage[/point]: status`` with the metrics of a done point, the progress of a running one
    (its job, why it waits when pending, what to do when that does not clear by itself, and
    mmengine's ETA) and the reason of any other. A local point whose transfer.py is
    gone is shown interrupted (``manifest`` is updated, not written). A study's grid comes first."""
    lines = study_grid(work_dir, manifest) if manifest.get('study') else []
    for name, point in iter_points(manifest):
        interrupt_if_gone(manifest, point)
        status = point['status']
        text = name + (f'/{point["name"]}' if point['name'] else '') + f': {status}'
        if status == 'done' and point['metrics']:
            text += ': ' + ', '.join(f'{k}={"missing" if v is None else f"{v:.4g}"}' for k, v in point['metrics'].items())
        elif status == 'running':
            text += f' ({_progress(work_dir, manifest, name, point)})'
            text += f': {point["slurm_hint"]}' if point.get('slurm_hint') else ''
        elif point.get('reason'):
            text += f': {point["reason"]}'
        if point.get('evaluated') and status in ('done', 'running'):  # a test of another stage's checkpoint
            text += f' (of {point["source"]}/{point["evaluated"]["point"] or "(default)"})'
        lines.append(text)
    return lines


def _cell(points: List[Dict]) -> str:
    """One grid cell: a point's status (and its first metric when done); ``done 2/3`` for several."""
    if len(points) == 1:
        point = points[0]
        value = next(iter(point['metrics'].values()), None) if point['status'] == 'done' and point['metrics'] else None
        return point['status'] + (f' {value:.4g}' if value is not None else '')
    counts: Dict[str, int] = {}
    for point in points:
        counts[point['status']] = counts.get(point['status'], 0) + 1
    return ' '.join(f'{s} {n}/{len(points)}' for s, n in counts.items())


def study_grid(work_dir: str, manifest: Dict) -> List[str]:
    """The study's grid as text lines: a row per chain (a pretraining point, or a random-init seed),
    a column per stage, each cell :func:`_cell` of the chain's points in that stage."""
    stages = list(manifest['stages'])
    chains: Dict[str, Dict[str, List[Dict]]] = {}
    for name, point in iter_points(manifest):
        interrupt_if_gone(manifest, point)
        chain = point['name'] if name == PRETRAINING else point['name'].split('/')[0]
        chains.setdefault(chain, {}).setdefault(name, []).append(point)
    table = [['point'] + stages] + [[chain] + [_cell(cells[s]) if s in cells else '' for s in stages]
                                    for chain, cells in chains.items()]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ['  '.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table] + ['']
