"""A finished run's outputs, written together: results.json, results.md, results.png, curves.png
(a study's: :mod:`.study` and :mod:`.study_chart`)."""
import glob
import json
import os
import os.path as osp
from typing import Dict

from ..console import say
from ..plan.manifest import iter_points, manifest_path, point_dir
from .charts import bar_chart
from .curves import draw
from .results import RESULTS, collect
from .study import collect_study, study_table
from .study_chart import study_chart
from .tables import table


def _curve_dirs(work_dir: str, manifest: Dict):
    """The done training points' folders, after the pretraining run's own (when it has curves)."""
    dirs = [point_dir(work_dir, manifest, s, p) for s, p in iter_points(manifest)
            if p['status'] == 'done' and manifest['stages'][s]['stage']['train']]
    if not manifest.get('checkpoint'):  # a study: its pretraining points are training points of the run
        return dirs
    pretrain_dir = osp.dirname(osp.abspath(manifest['checkpoint']['path']))
    if manifest['checkpoint']['kind'] == 'mae_mm' and glob.glob(
            osp.join(pretrain_dir, '**', 'vis_data', 'scalars.json'), recursive=True):
        dirs.insert(0, pretrain_dir)
    return dirs


def write_outputs(work_dir: str, manifest: Dict) -> str:
    """Writes the outputs of a run whose points have all ended; returns the table. Skipped (the
    table read back) when results.json is newer than the manifest."""
    results_json, md = osp.join(work_dir, RESULTS), osp.join(work_dir, 'results.md')
    fresh = (osp.isfile(results_json) and osp.isfile(md)
             and os.stat(results_json).st_mtime_ns >= os.stat(manifest_path(work_dir)).st_mtime_ns)
    if fresh:
        with open(md) as f:
            return f.read()
    if manifest.get('study'):
        results = collect_study(manifest)
        text = study_table(results)
        study_chart(results, osp.join(work_dir, 'results.png'))
    else:
        results = collect(manifest)
        text = table(manifest, results)
        bar_chart(manifest, results, osp.join(work_dir, 'results.png'))
    with open(md, 'w') as f:
        f.write(text)
    keys = ['loss', 'knn/top1'] + sorted({k for _, p in iter_points(manifest)
                                          for k in manifest['stages'][p['stage']]['stage']['metrics'].values()})
    try:
        draw(_curve_dirs(work_dir, manifest), keys, osp.join(work_dir, 'curves.png'))
    except (FileNotFoundError, KeyError, ValueError) as err:
        say(f'curves.png not drawn: {err}')
    with open(results_json, 'w') as f:  # last: its mtime marks the outputs fresh
        json.dump(results, f, indent=2)
    return text
