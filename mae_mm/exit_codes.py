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

LOST_PEER = 69
"""Another process of a distributed run died or stopped answering (a lost node, a killed rank, a
collective past its timeout): this process could not go on and saved nothing. sysexits.h
``EX_UNAVAILABLE``. The launchers restart or requeue such a run from its newest whole checkpoint
(``tools/dist_train.sh`` with ``MAX_RESTARTS``, ``tools/slurm_job.sh``), never a config error."""

CHECKPOINT_NOT_WRITTEN = 74
"""A checkpoint could not be written (a full disk, a quota, a file-size limit): the previous one is
whole and the partial file removed; the run stops naming the path and the cause. sysexits.h
``EX_IOERR``. Not requeued: a full disk does not empty itself; ``--resume`` once there is space."""
