"""Exit statuses shared by the Python code and the shell launchers.

Torch-free and import-free on purpose: ``tools/dist_train.sh`` and ``tools/slurm_job.sh`` read
:data:`PREEMPTED` from this file's text (``sed -n 's/^PREEMPTED = \\([0-9]*\\).*/\\1/p'``), so its
line keeps the form ``PREEMPTED = <number>``.
"""

PREEMPTED = 75
"""Training saved the iteration it was at on a signal and stopped: resumable with ``--resume``.

sysexits.h ``EX_TEMPFAIL`` ("a temporary failure; the user is invited to retry"): the launchers
read it as preempted, never as a failure (:class:`mae_mm.engine.SaveOnSignalHook` exits with it,
``tools/transfer.py`` exits with it when a stage was interrupted)."""
