"""Training curves of one or more runs from mmengine's scalars.json, against iterations
(``tools/plot_curves.py``, and ``curves.png`` of a suite run).

Every ``*/vis_data/scalars.json`` under a work dir is read (a resumed run writes one per start,
in timestamped folders) and merged by step, the later start winning where steps repeat. A key
written in records with ``lr`` is a training key, at ``step`` = iteration; any other key is a
metric, which mmengine's LoggerHook (and KNNProbeHook) write at ``step`` = epoch in an
epoch-based run: those steps become iterations with the run's iterations per epoch, the smallest
number consistent with every training record's (epoch, iteration). One subplot per key, one
line per work dir, labelled by its name (by its path below the dirs' common parent where two names are
the same).

mmpretrain's and mmdet's tools/analysis_tools/analyze_logs.py read one json log each, plot
metrics at their raw step (epochs next to iterations) and do not merge a resumed run's logs,
so this is written here.
"""
import glob
import json
import math
import os.path as osp
from typing import Dict, List, NamedTuple


def read_run(work_dir: str) -> Dict[str, Dict[int, float]]:
    """``{key: {iteration: value}}`` of one run, every start merged (see the module docstring)."""
    paths = sorted(glob.glob(osp.join(work_dir, '**', 'vis_data', 'scalars.json'), recursive=True))
    if not paths:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}')
    train, metrics, epochs = {}, {}, []
    for path in paths:
        with open(path) as f:
            for record in (json.loads(line) for line in f if line.strip()):
                step = record.pop('step')
                target = train if 'lr' in record else metrics
                if 'lr' in record and 'epoch' in record:
                    epochs.append((record['epoch'], step))
                for key, value in record.items():
                    target.setdefault(key, {})[step] = value
    if epochs:  # epoch-based: metrics are at epochs
        per_epoch = max(math.ceil(step / epoch) for epoch, step in epochs)
        metrics = {key: {epoch * per_epoch: v for epoch, v in values.items()} for key, values in metrics.items()}
    return {**metrics, **train}


def run_labels(work_dirs: List[str]) -> List[str]:
    """A legend label per work dir: its folder name, or, when two share one (the points of a sweep
    in different stages: ``finetune/seed=0``, ``coco/seed=0``), its path below their common parent."""
    dirs = [osp.abspath(d) for d in work_dirs]
    names = [osp.basename(d) for d in dirs]
    if len(set(names)) == len(names):
        return names
    common = osp.commonpath(dirs)  # two or more dirs here: two of them share a name
    return [osp.relpath(d, common) if d != common else osp.basename(d) for d in dirs]


class Drawn(NamedTuple):
    """What :func:`draw` drew: ``keys`` of the ``runs`` (labels); ``missing``, the asked-for keys in
    none of the runs; ``available``, every key the runs have."""

    keys: List[str]
    runs: List[str]
    missing: List[str]
    available: List[str]


def draw(work_dirs: List[str], keys: List[str], out: str) -> Drawn:
    """Draws ``keys`` of every run in ``work_dirs`` into ``out``, one subplot per key; a key in none
    of the runs (a metric of a stage that has not run yet) is left out, and all of them missing is
    a KeyError. Raises FileNotFoundError for a dir without scalars.json."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    runs = {label: read_run(d) for label, d in zip(run_labels(work_dirs), work_dirs)}
    missing = [k for k in keys if not any(k in c for c in runs.values())]
    available = sorted(set().union(*runs.values()))
    if len(missing) == len(keys):
        raise KeyError(f'{missing} are in none of {list(runs)}; keys there: {available}')
    keys = [k for k in keys if k not in missing]
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), sharex=True, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        for name, curves in runs.items():
            if key in curves:
                steps = sorted(curves[key])
                ax.plot(steps, [curves[key][s] for s in steps], marker='.' if len(steps) < 30 else None,
                        label=name, linewidth=1)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel('iteration')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return Drawn(keys, list(runs), missing, available)
