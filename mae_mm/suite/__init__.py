"""Transfer suites run end to end: a pretraining checkpoint in, a results table out; or a study, a
pretraining grid whose every checkpoint goes through a suite, one table out (``tools/transfer.py``
is the command line; :mod:`mae_mm.suite.run` ties the parts together).

Three parts, each a subpackage:

- :mod:`~mae_mm.suite.plan`: the suite file, the checkpoint and the sweeps/seeds become the run's
  manifest, a graph of stages (each stage's ``needs``) and their points, checked before anything runs;
- :mod:`~mae_mm.suite.execute`: the points run locally or as Slurm jobs, and Slurm jobs are polled;
- :mod:`~mae_mm.suite.report`: status lines, ``results.json`` (one schema), tables, charts,
  training curves and ``--compare``.

Nothing here imports torch, mmengine or a toolbox at module level (``import mae_mm`` is lazy), so
``tools/transfer.py --status`` reads a run's state in well under a second and without them; the
checks that need them (the checkpoint's contents, a stage config's keys and data paths) import them
when they run.
"""
