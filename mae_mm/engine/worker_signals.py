"""DataLoader workers that ignore the save-on-signal signals, so the main process can save.

Slurm signals every process of a job step, DataLoader workers included: a preemption sends SIGTERM
to the step's tasks and a ``scancel`` to everything. torch's worker loop ends a worker on any
SIGTERM its parent did not send, and a dead worker makes the main process raise (the DataLoader's
SIGCHLD check: "DataLoader worker ... is killed by signal") in the middle of the iteration it was
to finish and save. :func:`make_workers_ignore` wraps a loader's ``worker_init_fn`` so that each
worker ignores those signals from its start on; the main process catches them
(:class:`~mae_mm.engine.SaveOnSignalHook`), saves, and ends its workers itself on the way out: the loader's own shutdown, or, when the
process ends on an error, a SIGKILL at exit (:func:`_kill_leftover_workers`; a worker whose parent
has died also ends by itself, torch's watchdog in the worker loop).
"""
import atexit
import multiprocessing
import signal
from typing import Callable, Optional, Sequence


_exit_handler_registered = False


class IgnoreSignalsThenInit:
    """A ``worker_init_fn``: ignore ``signals`` in this worker, then call ``init_fn`` (mmengine's
    seeding one, usually). Picklable, for the ``spawn`` start method."""

    def __init__(self, signals: Sequence[signal.Signals], init_fn: Optional[Callable] = None):
        self.signals = tuple(signals)
        self.init_fn = init_fn

    def __call__(self, worker_id: int) -> None:
        for sig in self.signals:
            signal.signal(sig, signal.SIG_IGN)
        if self.init_fn is not None:
            self.init_fn(worker_id)


def _kill_leftover_workers() -> None:
    """At interpreter exit: SIGKILL the daemon child processes (DataLoader workers) still alive.

    multiprocessing's own exit handler ends daemon children with SIGTERM, which these workers
    ignore, then joins them: a process that ends on an uncaught error (its traceback keeps the
    loader's iterator, hence its workers, alive) would wait for them forever. Registered after
    multiprocessing's handler (``multiprocessing.util`` registers it when first imported, which
    :func:`make_workers_ignore` makes sure of), so it runs before it (atexit is LIFO).
    """
    # the DataLoader's SIGCHLD handler would raise "worker killed" in the middle of this loop
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    workers = [child for child in multiprocessing.active_children() if child.daemon]  # as multiprocessing
    for child in workers:
        child.kill()
    for child in workers:
        child.join(timeout=5)


def make_workers_ignore(loader, signals: Sequence[signal.Signals]) -> bool:
    """Makes the workers ``loader`` starts from now on ignore ``signals``; returns whether it
    could (an object without ``worker_init_fn``, e.g. no DataLoader, is left alone). The first
    call also registers :func:`_kill_leftover_workers` to run at exit."""
    global _exit_handler_registered
    if not hasattr(loader, 'worker_init_fn'):
        return False
    if not _exit_handler_registered:
        import multiprocessing.util  # noqa: F401  registers its exit handler now, if not yet: ours runs first
        atexit.register(_kill_leftover_workers)
        _exit_handler_registered = True
    current = loader.worker_init_fn
    if isinstance(current, IgnoreSignalsThenInit):
        current = current.init_fn
    loader.worker_init_fn = IgnoreSignalsThenInit(signals, current)
    return True
