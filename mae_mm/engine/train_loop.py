"""Train loops that continue at any iteration: mid-epoch after a preemption, or back at a
checkpoint after a non-finite loss.

mmengine's ``EpochBasedTrainLoop`` restarts an epoch at batch 0 when it resumes, so a run saved
in the middle of an epoch (:class:`~mae_mm.engine.preemption.SaveOnSignalHook`) would train
the epoch's first batches twice. :class:`ResumableEpochBasedTrainLoop` continues at the saved
iteration with the data order and augmentation draws of the run that never stopped. mmengine's
samplers draw their order from a generator of their own seeded by (seed, epoch), so the epoch's
order is known; the loop then either

- starts the epoch's sampler at the first sample not yet trained
  (:class:`~mae_mm.datasets.ResumableSampler`, position from
  :class:`~mae_mm.engine.DataPositionHook`): nothing already trained is loaded. Exact when the
  augmentation is seeded per sample (:class:`~mae_mm.datasets.PerSampleSeededPipeline`, our
  configs) or drawn in the main process (``num_workers=0``);
- or else makes the epoch's data iterator and draws and drops the batches already trained, so
  that each DataLoader worker (seeded from (seed, rank, worker id) when the iterator starts it;
  non-persistent workers restart every epoch) augments as before. Dropping a batch costs its loading.

Either way it then puts back the random states of the saved iteration (RandomStateHook saves
them with every checkpoint).

Both loops also roll back: a hook raises :class:`RollbackRequested` during an iteration (the
rest of that iteration's hooks do not run, so nothing of it is saved); the loop reloads the
checkpoint through ``runner.resume`` (weights, optimizer, loss scale, schedulers, counters,
random states) and continues from its iteration as a resumed run would.
"""
import logging
from typing import Callable, Optional

from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mae_mm.registry import LOOPS
from .optim_wrapper_members import accumulation
from .random_state_hook import restore_random_state


def processes(count: int) -> str:
    """'1 process', '2 processes'."""
    return f'{count} process' + ('' if count == 1 else 'es')


class RollbackRequested(Exception):
    """Raised by a hook inside an iteration to send training back to ``checkpoint``.

    Args:
        checkpoint (str): The whole checkpoint to go back to.
        reason (str): Why, for the log.
        on_loaded (callable, optional): ``f(runner)`` called once the checkpoint is loaded
            (e.g. to lower the lr, which loading the optimizer state has just restored).
    """

    def __init__(self, checkpoint: str, reason: str, on_loaded: Optional[Callable] = None):
        super().__init__(f'rollback to {checkpoint}: {reason}')
        self.checkpoint = checkpoint
        self.reason = reason
        self.on_loaded = on_loaded


class _RollbackMixin:
    """``_rollback``: reload a checkpoint in the middle of training, as ``--resume`` does at the start;
    ``_validate_if_due``: the validation rule both loops share."""

    supports_rollback = True

    def _rollback(self, request: RollbackRequested) -> None:
        runner = self.runner
        print_log(f'rolling back to {request.checkpoint} ({request.reason})', logger='current',
                  level=logging.WARNING)
        runner._resume = True  # the random states are restored on a resume only (RandomStateHook)
        runner.resume(request.checkpoint)
        self._resume_from = request.checkpoint  # for the epoch loop's resume line (DataPositionHook names load_from)
        if request.on_loaded is not None:
            request.on_loaded(runner)
        print_log(f'continuing from iteration {self._iter + 1} (epoch {self._epoch + 1})', logger='current',
                  level=logging.WARNING)

    def _validate_if_due(self, done: int, total: int) -> None:
        """mmengine's rule: validate after ``done`` epochs / iterations of ``total`` when due."""
        self._decide_current_val_interval()
        if (self.runner.val_loop is not None and done >= self.val_begin
                and (done % self.val_interval == 0 or done == total)):
            self.runner.val_loop.run()


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(_RollbackMixin, EpochBasedTrainLoop):
    """mmengine's epoch-based loop that resumes (and rolls back) to any iteration inside an epoch.

    Arguments are those of ``EpochBasedTrainLoop``. With a checkpoint saved at the end of an
    epoch it behaves exactly as mmengine's loop (plus :class:`RollbackRequested`).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._resume_state: Optional[dict] = None
        self._resume_position: Optional[dict] = None
        self._resume_from: Optional[str] = None
        self._skipping = False  # this epoch starts in the sampler after its trained batches

    def set_resume_random_state(self, state: dict) -> None:
        """This rank's random states of a loaded checkpoint; :meth:`run_epoch` puts them back
        before the epoch (a checkpoint of an epoch's end) or after the trained batches (inside one)."""
        self._resume_state = state

    def set_resume_data_position(self, position: dict, checkpoint: Optional[str] = None) -> None:
        """The data position of a loaded checkpoint (:func:`~mae_mm.engine.data_position_hook.data_position`);
        :meth:`run_epoch` checks it against the loop's counters and starts the sampler there."""
        self._resume_position, self._resume_from = position, checkpoint

    def run(self):
        self.runner.call_hook('before_train')
        while self._epoch < self._max_epochs and not self.stop_training:
            if not self.run_epoch():
                continue  # rolled back: the epoch the checkpoint is in runs next
            self._validate_if_due(self._epoch, self._max_epochs)
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> bool:
        """One epoch from the first batch not yet trained; False when it rolled back instead."""
        length = len(self.dataloader)
        done = self._iter - self._epoch * length  # batches of this epoch already trained
        if not 0 <= done <= length:
            raise ValueError(f'iteration {self._iter} is not in epoch {self._epoch + 1} of {length} iterations: '
                             'the checkpoint was saved with another data set or batch size')
        state, self._resume_state = self._resume_state, None
        if not done and state is not None:  # saved at the end of the previous epoch
            restore_random_state(state)
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        position, self._resume_position = self._resume_position, None
        if done:
            self._start_inside_epoch(done, length, position)
        elif position is not None:
            self._log_resume(f'at the start of epoch {self._epoch + 1} (sample 0 of {len(self.dataloader.dataset)}',
                             position)
        batches = iter(self.dataloader) if done < length else iter(())  # all trained: to its end hooks
        if done and not self._skipping:
            for _ in range(done if done < length else 0):
                next(batches)
        if done and state is not None:
            restore_random_state(state)
        try:
            for idx, data_batch in enumerate(batches, start=done):
                self.run_iter(idx, data_batch)
        except RollbackRequested as request:
            self._rollback(request)
            return False
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
        return True

    def _start_inside_epoch(self, done: int, length: int, position: Optional[dict]) -> None:
        """Prepares the epoch's data to start after its ``done`` trained batches (of ``length``):
        in the sampler where that is exact (sets ``self._skipping``), else by drawing and dropping
        them; logs the one resume line."""
        from mae_mm.datasets.per_sample_seed import PerSampleSeededPipeline
        from mae_mm.datasets.resumable_sampler import ResumableSampler
        loader, world = self.dataloader, get_world_size()
        samples = done * loader.batch_size * world
        expected = (self._epoch, samples) if done < length else (self._epoch + 1, 0)  # a complete epoch: the next
        if position is not None and (position['epoch'], position['samples']) != expected:
            raise ValueError(f'{self._resume_from}: its data position (epoch {position["epoch"] + 1}, sample '
                             f'{position["samples"]}) is not where the loop stands (epoch {self._epoch + 1}, '
                             f'{done} batches of {loader.batch_size} x {world} processes = sample {samples})')
        per_sample = isinstance(getattr(loader.dataset, 'pipeline', None), PerSampleSeededPipeline)
        self._skipping = (done < length and isinstance(loader.sampler, ResumableSampler)
                          and (per_sample or loader.num_workers == 0))
        if self._skipping:
            loader.sampler.skip(samples)
        how = ('the sampler starts there: nothing already trained is loaded' if self._skipping else
               'drawing and dropping the batches already trained' if done < length else 'the epoch is complete')
        self._log_resume(f'inside epoch {self._epoch + 1} at sample {samples} of {length * loader.batch_size * world} '
                         f'(batch {done} of {length}', position, how)

    def _log_resume(self, where: str, position: Optional[dict], how: str = '') -> None:
        """The one resume line: the checkpoint, ``where`` (its epoch and sample), the checkpoint's
        layout and this run's (processes x batch per process x accumulation), then ``how``."""
        loader, world = self.dataloader, get_world_size()
        now = (world, loader.batch_size, accumulation(self.runner))
        before = now if position is None else (position['processes'], position['batch_size'],
                                                position['accumulative_counts'])
        layout = ' -> '.join(f'{processes(w)} x {b} x accumulation {a}' for w, b, a in dict.fromkeys((before, now)))
        if before[2] != now[2]:
            layout += f': {before[0] * before[1] * before[2]} samples per step kept'
        print_log(f'resuming{" from " + self._resume_from if self._resume_from else ""} {where}; {layout})'
                  + (f': {how}' if how else ''), logger='current')


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(_RollbackMixin, IterBasedTrainLoop):
    """mmengine's iteration-based loop (which already resumes at any iteration) that can also roll back.

    After a rollback it makes a new data iterator and skips the trained batches, as mmengine's
    loop does when a run resumes; RandomStateHook then restores the checkpoint's states before
    the next iteration.
    """

    def run(self):
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        self._advance()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            try:
                self.run_iter(data_batch)
            except RollbackRequested as request:
                self._rollback(request)
                self.dataloader_iterator = _InfiniteDataloaderIterator(self.dataloader)
                self._advance()
                continue
            self._validate_if_due(self._iter, self._max_iters)
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _advance(self) -> None:
        if self._iter > 0:
            print_log(f'drawing and dropping the {self._iter} batches already trained', logger='current')
            for _ in range(self._iter):
                next(self.dataloader_iterator)

