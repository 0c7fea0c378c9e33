"""Report: where a run stands (:mod:`.status`), ``results.json`` in one schema (:mod:`.results`),
the markdown tables and ``--compare`` (:mod:`.tables`), the bar chart (:mod:`.charts`), training
curves (:mod:`.curves`, also ``tools/plot_curves.py``), and all of a finished run's outputs
written together (:mod:`.outputs`).
"""
