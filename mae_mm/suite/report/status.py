"""Where every point of a suite run stands, one line each (``tools/transfer.py --status``)."""
from typing import Dict, List

from ..execute.logs import train_progress
from ..plan.manifest import interrupt_if_gone, iter_points, point_log


def status_lines(work_dir: str, manifest: Dict) -> List[str]:
    """``stage[/point]: status`` with the metrics of a done point, the progress of a running one
    (its job and mmengine's ETA) and the reason of any other. A local point whose transfer.py is
    gone is shown interrupted (``manifest`` is updated, not written)."""
    lines = []
    for name, point in iter_points(manifest):
        interrupt_if_gone(manifest, point)
        status = point['status']
        text = name + (f'/{point["name"]}' if point['name'] else '') + f': {status}'
        if status == 'done':
            text += ': ' + ', '.join(f'{k}={v:.4g}' for k, v in point['metrics'].items())
        elif status == 'running':
            where = train_progress(point_log(work_dir, manifest, name, point))
            extra = [f'job {point["job_id"]} {point.get("slurm_state") or ""}'.strip()] if point.get('job_id') else []
            text += ' (' + ', '.join(extra + [where or 'starting']) + ')'
        elif point.get('reason'):
            text += f': {point["reason"]}'
        lines.append(text)
    return lines
