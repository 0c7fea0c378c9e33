"""Save on a signal: a preempted run writes a checkpoint of the iteration it is at, then exits.

Clusters warn a job before they end it: Slurm sends the signal of ``--signal=B:USR1@T`` T
seconds before the time limit (and ``scancel --signal=USR1`` sends it by hand), preemption and
``torchrun`` send SIGTERM. :class:`SaveOnSignalHook` catches those signals (the handler only
sets a flag), lets the current iteration finish, writes an atomic checkpoint of that iteration,
mid-epoch included, with every rank's random states, points ``last_checkpoint`` at it and ends
the process with :data:`PREEMPTED_EXIT_CODE`. ``--resume`` then continues from that iteration
exactly (:class:`~mae_mm.engine.train_loop.ResumableEpochBasedTrainLoop` for epoch-based
configs; mmengine's iteration-based loop skips the trained batches itself).

Under DDP the ranks agree on the flag, so every rank stops after the same iteration, whichever
of them was signalled: through the one small all-reduce per step of
:mod:`mae_mm.engine.step_agreement`, which also carries the non-finite-loss flag of
:class:`~mae_mm.engine.NonFiniteLossHook` (this hook makes that all-reduce itself only when no
other part of the step did).

DataLoader workers ignore these signals (a preemption or a ``scancel`` signals every process of a
Slurm job step, workers included), so a signal that reaches them does not end the run before it
saves (:mod:`mae_mm.engine.worker_signals`).
"""
import os
import os.path as osp
import signal
import time
from typing import Optional, Sequence

from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mae_mm.exit_codes import PREEMPTED as PREEMPTED_EXIT_CODE
from mae_mm.registry import HOOKS
from .atomic_backend import write_atomically
from .checkpoint_hook import save_checkpoint_or_explain
from .optim_wrapper_members import optim_wrappers
from .resume import run_checkpoint_hook
from .step_agreement import agree, forget, take_agreed_signal
from .worker_signals import make_workers_ignore

# a file to write the saved checkpoint's path into, for launchers that cannot pass exit codes on
PREEMPTED_FILE_ENV = 'MAE_MM_PREEMPTED_FILE'

_received: Optional[str] = None


class TrainingPreempted(SystemExit):
    """Raised (after the save) to end the run; uncaught, the process exits with code 75."""

    def __init__(self, message: str):
        super().__init__(PREEMPTED_EXIT_CODE)
        self.message = message

    def __str__(self) -> str:
        return self.message


def checked_signals(names: Sequence[str]) -> tuple:
    """The ``signal.Signals`` named by ``names`` ('SIGTERM', 'USR1'...); a ValueError names an unknown one."""
    if isinstance(names, str):
        names = (names,)
    found = []
    for name in names:
        full = name if str(name).startswith('SIG') else f'SIG{name}'
        if not hasattr(signal.Signals, full) or full in ('SIGKILL', 'SIGSTOP'):
            raise ValueError(f'SaveOnSignalHook.signals: {name!r} is not a signal that can be caught; '
                             f'use names such as SIGTERM, SIGUSR1, SIGUSR2, SIGINT')
        found.append(signal.Signals[full])
    return tuple(found)


def _remember(signum, frame) -> None:
    global _received
    _received = signal.Signals(signum).name


def install_signal_handlers(signals: Sequence[signal.Signals]) -> None:
    """From now on, each of ``signals`` only records that it arrived (see :func:`signal_received`)."""
    for sig in signals:
        signal.signal(sig, _remember)


def signal_received() -> Optional[str]:
    """The name of the last signal caught in this process, or None."""
    return _received


def inside_accumulation_window(runner) -> bool:
    """Whether the iteration that just ended accumulated a gradient without an optimizer step
    (``optim_wrapper.accumulative_counts`` > 1, not the window's last micro-batch)."""
    return any(getattr(w, '_accumulative_counts', 1) > 1 and not w.should_update()
               for w in optim_wrappers(runner.optim_wrapper))


def _agreed_signal_of_this_step() -> bool:
    """Whether any rank has caught a signal: the step's agreement when one was made (the optimizer
    wrapper or NonFiniteLossHook did), else one all-reduce now (every rank calls this at the same
    point)."""
    agreed = take_agreed_signal()
    if agreed is None:
        agreed = agree(signal_received() is not None, False)[0]
        take_agreed_signal()
    return agreed


@HOOKS.register_module()
class SaveOnSignalHook(Hook):
    """On SIGTERM / SIGUSR1 (``signals``): finish the iteration, save it, exit with code 75.

    Args:
        signals (sequence of str): The signals to catch; unknown names fail when the hook is built.

    The checkpoint is ``iter_<N>.pth`` in the CheckpointHook's folder, written through its
    ``backend_args`` (atomic writes in our configs), with ``meta.iter = N`` and the epoch it
    belongs to; ``work_dir/last_checkpoint`` names it. A signal that arrives before the first
    iteration of the run ends it the same way without writing anything.
    """

    priority = 'LOWEST'  # after every other after_train_iter, the scheduled checkpoint's included

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1')):
        self.signals = checked_signals(signals)
        install_signal_handlers(self.signals)
        self._first_iter: Optional[int] = None
        self._deferred = False

    def before_train(self, runner) -> None:
        self._first_iter = runner.iter
        # Slurm signals the DataLoader workers too: they ignore it, the main process saves
        for loop in (runner.train_loop, getattr(runner, '_val_loop', None)):
            make_workers_ignore(getattr(loop, 'dataloader', None), self.signals)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        forget()  # an agreement of a step that never reached after_train_iter (a rollback)
        if runner.iter == self._first_iter and _agreed_signal_of_this_step():
            raise TrainingPreempted(f'{signal_received() or "a signal"} before the first iteration of this '
                                    f'run (iteration {runner.iter + 1}): nothing to save, exiting with '
                                    f'{PREEMPTED_EXIT_CODE}')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not _agreed_signal_of_this_step():
            return
        if inside_accumulation_window(runner):
            # the gradient of this window's micro-batches so far is in no checkpoint: a save now
            # would resume without it. The signal stays noted; the save follows the window's step.
            if not self._deferred:
                self._deferred = True
                print_log(f'{signal_received() or "a signal on another rank"} inside a gradient accumulation window '
                          f'(iteration {runner.iter + 1}): saving after its optimizer step', logger='current')
            return
        start = time.perf_counter()
        path = self.save(runner)
        took = time.perf_counter() - start
        raise TrainingPreempted(f'{signal_received() or "a signal on another rank"}: saved iteration '
                                f'{runner.iter + 1} (epoch {runner.epoch + 1}) to {path} in {took:.1f} s; '
                                f'exiting with {PREEMPTED_EXIT_CODE}; --resume continues from there')

    def save(self, runner) -> str:
        """Writes the checkpoint of the iteration that just ended (every rank calls this)."""
        for hook in runner.hooks:  # every rank's random states, gathered before rank 0 saves
            if hasattr(hook, 'gather_random_states'):
                hook.gather_random_states(runner)
        ckpt_hook = run_checkpoint_hook(runner)
        out_dir = getattr(ckpt_hook, 'out_dir', None) or runner.work_dir
        backend_args = getattr(ckpt_hook, 'backend_args', None)
        filename = f'iter_{runner.iter + 1}.pth'
        # a full disk: CheckpointWriteError on every rank (exit 74, not requeued), nothing reported saved
        path = save_checkpoint_or_explain(runner, out_dir, filename, by_epoch=False, backend_args=backend_args,
                                          meta=dict(epoch=runner.epoch, iter=runner.iter + 1))
        if is_main_process():
            write_atomically(path.encode(), osp.join(runner.work_dir, 'last_checkpoint'))
            report = os.environ.get(PREEMPTED_FILE_ENV)
            if report:  # tools/dist_train.sh: torchrun itself reports any worker's exit as 1
                write_atomically(path.encode(), report)
            print_log(f'saved {path} on {signal_received() or "a signal on another rank"}', logger='current')
        barrier()
        return path
