"""Lets torch >= 2.6 load mmengine checkpoints with ``weights_only=True`` still on.

mmengine 0.10.x calls ``torch.load`` without ``weights_only``; since torch 2.6 that means
``weights_only=True``, and the unpickler refuses the few non-tensor objects mmengine writes
(its message hub's ``HistoryBuffer``, numpy arrays and scalars in ``meta``). Rather than turn
the safety off, we allow exactly those types; anything else in a file of unknown origin is
still refused.

One more obstacle: ``HistoryBuffer.__getstate__`` pickles its class-level table of statistics
methods as ``getattr(HistoryBuffer, 'mean')`` calls, and ``getattr`` must never be allowed (it
reaches any attribute of any allowed object). That table is class state, rebuilt by
``__setstate__`` and by whatever module registers a custom method, so the checkpoints written
after :func:`allow_mmengine_checkpoints` leave it out. A checkpoint that mmengine wrote without
it still carries the table and is refused under ``weights_only``.

Nothing here runs on import: :func:`mae_mm.runtime.setup_runtime` calls
:func:`allow_mmengine_checkpoints` for a run.
"""
import numpy as np
import torch


def mmengine_checkpoint_globals() -> list:
    """The classes and functions an mmengine training checkpoint pickles besides tensors."""
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed = [HistoryBuffer, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
               np.core.multiarray.scalar]
    # numpy >= 1.25 pickles dtypes as instances of per-type classes (np.dtypes.Float64DType...)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    # numpy 2 renamed numpy.core to numpy._core; pickles may name either module
    core = getattr(np, '_core', None)
    if core is not None:
        allowed += [core.multiarray._reconstruct, core.multiarray.scalar]
    return allowed


def _history_buffer_state(self) -> dict:
    """``HistoryBuffer`` state without the class-level statistics table (see module doc)."""
    return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}


def allow_mmengine_checkpoints() -> None:
    """Makes mmengine's own checkpoints loadable with ``weights_only=True``: allowlists their
    types and keeps ``getattr`` out of the history buffers they pickle."""
    from mmengine.logging.history_buffer import HistoryBuffer

    HistoryBuffer.__getstate__ = _history_buffer_state
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no allowlist and loads everything
        add(mmengine_checkpoint_globals())
