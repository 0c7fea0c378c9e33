"""The parts of ``tools/transfer.py``: suites, the sweep grid, the checkpoint's identity, the run
manifest, the local and Slurm launchers, progress lines and the results table.

Nothing here imports torch or a toolbox at module level, so ``tools/transfer.py --status`` reads a
run's state in well under a second; the checks that need them (the checkpoint's contents, a
stage config's keys and data paths) import them when they run.
"""
