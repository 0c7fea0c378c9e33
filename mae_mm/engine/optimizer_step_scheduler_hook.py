"""Parameter schedules that follow optimizer steps, whatever the gradient accumulation.

mmengine's ``ParamSchedulerHook`` steps the iteration-based schedulers after every iteration, and
with ``optim_wrapper.accumulative_counts = A`` an iteration is one micro-batch: the optimizer step
that ends a window of A micro-batches then uses the schedule's value A - 1 iterations past the
window's start. The lr of a run thus depends on how its total batch is split: 2 processes x 8
images and 1 process x 8 images x accumulation 2 train the same samples per step with lrs half a
step apart, and a run resumed on another layout would not continue as it would have.

:class:`OptimizerStepParamSchedulerHook` steps those schedulers only when a window ends, by its
length: every micro-batch of window s trains with the schedule's value at iteration s x A, the
window's first, i.e. at optimizer step s of a span of (iterations / A) steps. That is the value
mmengine gives step s without accumulation, and the value the official MAE code sets at each
window's first micro-batch (its ``adjust_learning_rate`` at ``data_iter_step % accum_iter == 0``).
Cosine and polynomial schedules (spans of ``end - begin`` iterations) then give step s of E the
same value whatever A is. A linear one (``LinearLR``, warmup) reaches its end value at its span's
last iteration (mmengine's ``total_iters = end - begin - 1``); with windows that last iteration is
no window's first, so ``before_run`` ends the span at the last window's first iteration, and step
s of a warmup of E steps is at ``s / (E - 1)`` of its ramp for any A. With A = 1 it is
mmengine's hook, step for step. Epoch-based schedulers are untouched.
"""
from mmengine.hooks import ParamSchedulerHook
from mmengine.optim.scheduler.param_scheduler import LinearParamScheduler

from mae_mm.registry import HOOKS
from .optim_wrapper_members import accumulation
from .schedule_resume_check_hook import labelled_schedulers


def end_linear_schedules_at_window_starts(param_schedulers, counts: int) -> None:
    """Makes each iteration-based linear scheduler of ``param_schedulers`` (mmengine's forms) end
    its ramp at the first iteration of its span's last window of ``counts`` iterations: its span
    ends there (``end - counts + 1``), so ``total_iters`` is ``end - begin - counts``.

    A scheduler changes the lr only inside its span, so the lr then holds for the rest of that window."""
    if counts == 1:
        return
    for _, scheduler in labelled_schedulers(param_schedulers):
        if (isinstance(scheduler, LinearParamScheduler) and not scheduler.by_epoch
                and scheduler.end - scheduler.begin > counts and scheduler.total_iters == scheduler.end - scheduler.begin - 1):
            scheduler.end -= counts - 1
            scheduler.total_iters = scheduler.end - scheduler.begin - 1


@HOOKS.register_module()
class OptimizerStepParamSchedulerHook(ParamSchedulerHook):
    """mmengine's ``ParamSchedulerHook`` whose iteration-based schedulers move once per optimizer
    step: after the last micro-batch of each accumulation window (mmengine's windows: iterations
    i with (i + 1) % A == 0, and the run's last iteration), by the window's length; linear
    schedules end at their last window's first iteration."""

    def before_run(self, runner) -> None:
        end_linear_schedules_at_window_starts(runner.param_schedulers, accumulation(runner))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        counts = accumulation(runner)
        if counts == 1:
            super().after_train_iter(runner, batch_idx, data_batch, outputs)
            return
        done = runner.iter + 1  # iterations trained, this one included
        if done % counts and done != runner.max_iters:
            return  # inside a window: the optimizer has not stepped
        for _ in range((done - 1) % counts + 1):
            super().after_train_iter(runner, batch_idx, data_batch, outputs)
