"""One small all-reduce per training step, read by every decision the ranks must take together.

Under DDP two decisions must be the same on every rank, or the replicas part ways (or wait on each
other in the gradient all-reduce until the backend's timeout):

- **stop on a signal** (:class:`~mae_mm.engine.SaveOnSignalHook`): a signal caught on any rank
  saves the same iteration everywhere;
- **a non-finite loss** (:class:`~mae_mm.engine.NonFiniteLossHook`): a NaN on any rank skips,
  stops or rolls back the same step everywhere.

:func:`agree` reduces both flags at once (a 2-element ``max`` all-reduce) and keeps the result for
the rest of the step; :func:`take_agreed_signal` hands the signal flag to ``SaveOnSignalHook``,
which then makes no collective of its own. Who calls :func:`agree`, once per step:

- with ``on_nonfinite='skip'``, the optimizer wrapper, before the backward pass (the skip must be
  decided before any rank starts its backward, whose gradient all-reduce every rank joins);
- with ``'stop'`` or ``'rollback'``, ``NonFiniteLossHook.after_train_iter``;
- without a ``NonFiniteLossHook``, ``SaveOnSignalHook.after_train_iter`` itself.

``SaveOnSignalHook.before_train_iter`` forgets an agreement left over from a step that did not
reach its ``after_train_iter`` (a rollback).
"""
from typing import Optional, Tuple

import torch
from mmengine.dist import all_reduce, get_world_size

_agreed_signal: Optional[bool] = None


def agree(signal_here: bool, nonfinite_here: bool) -> Tuple[bool, bool]:
    """Whether any rank has caught a signal, and whether any rank's loss is not finite.

    Every rank calls this at the same point of the same step (one all-reduce of 2 floats; none in
    a single process). The signal flag is kept until :func:`take_agreed_signal` reads it.

    Args:
        signal_here (bool): This rank has caught a save-on-signal signal.
        nonfinite_here (bool): This rank's loss of this step is NaN or infinite.

    Returns:
        tuple[bool, bool]: ``(any signal, any non-finite loss)`` over all ranks.
    """
    global _agreed_signal
    if get_world_size() == 1:
        result = (bool(signal_here), bool(nonfinite_here))
    else:
        flags = torch.tensor([float(bool(signal_here)), float(bool(nonfinite_here))])
        all_reduce(flags, op='max')  # mmengine moves it to the backend's device and back
        result = (bool(flags[0].item()), bool(flags[1].item()))
    _agreed_signal = result[0]
    return result


def take_agreed_signal() -> Optional[bool]:
    """The signal flag :func:`agree` settled on in this step, then forgotten; None when this step
    made no agreement yet."""
    global _agreed_signal
    agreed, _agreed_signal = _agreed_signal, None
    return agreed


def forget() -> None:
    """Drops an agreement that no ``SaveOnSignalHook`` read (called at the start of each step)."""
    global _agreed_signal
    _agreed_signal = None
