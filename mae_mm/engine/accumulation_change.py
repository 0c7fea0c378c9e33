"""A checkpoint's iteration counters in another gradient accumulation.

mmengine counts iterations in micro-batches: ``meta.iter``, the param schedulers' steps and the
spans of the iteration-based ones (converted from epochs with the data loader's length) all
grow with ``optim_wrapper.accumulative_counts``. A run resumed with accumulation A' where its
checkpoint had A (another number of processes, the same total batch) has built its schedulers
for its own loader (A'/A times the iterations per epoch); :func:`rescale_counters` rewrites the
loaded checkpoint (``after_load_checkpoint``, before mmengine applies it) so that iteration
``i`` of the old run becomes ``i x A'/A``: the same optimizer step, the same place in every
schedule, the same epoch and sample.

With :class:`~mae_mm.engine.OptimizerStepParamSchedulerHook` the lr of an optimizer step does
not depend on the accumulation, so the run continues with the lrs it would have had.
"""
from mmengine.optim.scheduler.param_scheduler import INF

from .schedule_resume_check_hook import labelled_schedulers

# what a scheduler's state holds that moves as it runs, or is not about its span
_MOVING = ('optimizer', '_global_step', 'last_step', '_last_value', 'base_values', 'verbose')


def steps_in_span(global_step: int, begin: int, end: float) -> int:
    """mmengine's ``last_step`` after ``global_step`` steps (the initial one is step 0) of a
    scheduler active on ``[begin, end)``: one less than the steps that fell in the span."""
    return max(0, min(global_step, end - 1) - begin + 1) - 1 if global_step >= begin else -1


def _scaled(value: int, before: int, now: int, what: str) -> int:
    """``value`` micro-batches of windows of ``before`` in windows of ``now``."""
    if value % before:
        raise ValueError(f'resuming with accumulation {now} instead of {before}: {what} {value} is not a whole number '
                         f'of windows of {before} micro-batches, so it has no place in the new count; resume with '
                         f'the checkpoint\'s layout')
    return value // before * now


def _span_in_steps(begin: int, end: float, counts: int) -> tuple:
    """A span of iterations in optimizer steps of ``counts`` iterations: the windows it starts in
    and ends in (a linear span ends one iteration past its last window's first,
    :func:`~mae_mm.engine.optimizer_step_scheduler_hook.end_linear_schedules_at_window_starts`)."""
    return -(-begin // counts), end if end == INF else -(-end // counts)


def rescale_scheduler_state(state: dict, built, before: int, now: int) -> dict:
    """The state of an iteration-based scheduler saved with accumulation ``before``, for ``built``
    (the same scheduler config built for accumulation ``now``): when both spans cover the same
    optimizer steps, the span and what derives from it (``T_max``, ``total_iters``, ``milestones``,
    ...) are ``built``'s, the steps taken are scaled by now/before and the values kept. Epoch-based
    states are returned as they are, and so is a state whose span differs from ``built``'s (for
    :class:`~mae_mm.engine.ScheduleResumeCheckHook` to name)."""
    if state.get('by_epoch', True):
        return state
    if _span_in_steps(state['begin'], state['end'], before) != _span_in_steps(built.begin, built.end, now):
        return state
    state = dict(state)
    for key, value in vars(built).items():
        if key not in _MOVING and key in state:
            state[key] = value
    state['_global_step'] = _scaled(state['_global_step'], before, now, f'{type(built).__name__} step')
    state['last_step'] = steps_in_span(state['_global_step'], state['begin'], state['end'])
    return state


def rescale_counters(checkpoint: dict, param_schedulers, before: int, now: int) -> None:
    """Rewrites ``checkpoint`` (as mmengine's ``Runner.resume`` is about to apply it) from
    accumulation ``before`` to ``now``: ``meta.iter`` and each iteration-based scheduler of
    ``param_schedulers`` (the run's, built for ``now``).

    Raises:
        ValueError: the checkpoint's iteration is inside an accumulation window.
    """
    meta = checkpoint['meta']
    meta['iter'] = _scaled(int(meta['iter']), before, now, "the checkpoint's iteration")
    saved = checkpoint.get('param_schedulers')
    if saved is None or param_schedulers is None:
        return
    built = dict(labelled_schedulers(param_schedulers))
    states = dict(labelled_schedulers(saved))
    for label, state in states.items():
        if label in built:
            rescaled = rescale_scheduler_state(state, built[label], before, now)
            state.clear()
            state.update(rescaled)
