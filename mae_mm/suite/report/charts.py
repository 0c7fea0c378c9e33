"""results.png: ours against the cited figure, one pair of bars per metric (matplotlib, imported
when drawn)."""
from typing import Dict

from .results import rows


def bar_chart(manifest: Dict, results: Dict, out: str) -> None:
    """Draws the run's metrics (the pretraining loss left out) into ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    shown = [r for r in rows(manifest, results) if not r[0].startswith('pretrain')]
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(shown)), 3.2))
    xs = range(len(shown))
    ax.bar([x - 0.2 for x in xs], [r[1] for r in shown], 0.4, yerr=[r[2] or 0 for r in shown], label='ours')
    ax.bar([x + 0.2 for x in xs], [r[3] or 0 for r in shown], 0.4, label='cited')
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r[0].replace(' (%)', '') for r in shown], fontsize=7, rotation=20)
    ax.set_ylabel('%')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
