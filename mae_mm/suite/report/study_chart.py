"""results.png of a study: each metric against each numeric swept key, as the paper's Figs. 5 and 7
(mean over seeds, ± std as error bars; one line per setting of the other swept keys, the config's
own setting marked; the random-init row as a dashed line). A study that sweeps no numeric key gets
one bar per row instead."""
import json
from typing import Dict, List, Optional

from .study import short


def numeric_keys(study: Dict) -> List[str]:
    """The swept keys whose values are all numbers (not booleans), with at least two values."""
    return [k for k, values in study['sweeps'].items()
            if len(values) > 1 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)]


def _mean(row: Dict, column: Dict) -> float:
    return row['cells'][column['id']]['mean'] * column['scale']


def _std(row: Dict, column: Dict) -> float:
    return row['cells'][column['id']]['std'] * column['scale']


def _bars(ax, rows: List[Dict], column: Dict) -> None:
    """One bar per row that has the column (the default grey)."""
    shown = [r for r in rows if column['id'] in r['cells']]
    ax.bar(range(len(shown)), [_mean(r, column) for r in shown], yerr=[_std(r, column) for r in shown],
           color=['0.6' if r['default'] else 'C0' for r in shown])
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([r['label'] for r in shown], rotation=30, ha='right', fontsize=6)


def _against(ax, key: str, rows: List[Dict], baseline: Optional[Dict], column: Dict) -> None:
    """The column's mean against ``key``: a line per setting of the other swept keys."""
    lines: Dict[str, List[Dict]] = {}
    for row in rows:
        if column['id'] in row['cells'] and key in row['setting']:
            others = {k: v for k, v in row['setting'].items() if k != key}
            lines.setdefault(json.dumps(others, sort_keys=True), []).append(row)
    for others, line in lines.items():
        line = sorted(line, key=lambda r: r['setting'][key])
        label = ', '.join(short(k, v) for k, v in json.loads(others).items()) or None
        ax.errorbar([r['setting'][key] for r in line], [_mean(r, column) for r in line],
                    yerr=[_std(r, column) for r in line], marker='o', capsize=3, label=label)
        for row in (r for r in line if r['default']):
            ax.plot(row['setting'][key], _mean(row, column), 's', color='0.4')
    if baseline and column['id'] in baseline['cells']:
        ax.axhline(_mean(baseline, column), color='0.5', linestyle='--', label='random init')
    ax.set_xlabel(key.rsplit('.', 1)[-1])
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)


def study_chart(results: Dict, out: str) -> None:
    """Draws ``results`` (a study's results.json content) into ``out``: a row of panels per numeric
    swept key, a panel per column."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    columns = results['columns']
    keys = numeric_keys(results['study']) or [None]
    pretrained = [r for r in results['rows'] if not r['random_init']]
    baseline = next((r for r in results['rows'] if r['random_init']), None)
    fig, axes = plt.subplots(len(keys), len(columns), figsize=(3.4 * len(columns), 2.8 * len(keys)), squeeze=False)
    for i, key in enumerate(keys):
        for ax, column in zip(axes[i], columns):
            if key is None:
                _bars(ax, results['rows'], column)
            else:
                _against(ax, key, pretrained, baseline, column)
            ax.set_title(column['label'], fontsize=8)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
