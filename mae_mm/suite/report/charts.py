"""results.png: ours against the cited figure, one pair of bars per metric (matplotlib, imported
when drawn)."""
from typing import Dict

from .results import rows


def bar_chart(manifest: Dict, results: Dict, out: str) -> None:
    """Draws the run's metrics (the pretraining loss left out) into ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    shown = [r for r in rows(manifest, results) if not r.label.startswith('pretrain ')]
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(shown)), 3.2))
    xs = range(len(shown))
    bars = [('ours', [r.ours or 0 for r in shown], [r.std or 0 for r in shown])]  # not measured: 0
    if any(r.random_init is not None for r in shown):
        bars.append(('random init', [r.random_init or 0 for r in shown], [r.random_init_std or 0 for r in shown]))
    bars.append(('cited', [r.cited or 0 for r in shown], None))
    width = 0.8 / len(bars)
    for i, (label, values, errors) in enumerate(bars):
        ax.bar([x + (i - (len(bars) - 1) / 2) * width for x in xs], values, width, yerr=errors, label=label)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r.label.replace(' (%)', '') for r in shown], fontsize=7, rotation=20)
    ax.set_ylabel('%')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
