"""Optimizer wrappers: autocast without loss scaling under bf16, fp32 where no GPU exists.

mmengine's :class:`AmpOptimWrapper` runs a ``GradScaler`` whatever the dtype: under bf16
every step multiplies the loss by 65536, unscales every gradient, checks them for inf/nan and
reads that check back to the host (``found_inf.item()``), a synchronisation per iteration,
none of which bf16 needs (it has fp32's exponent range). :class:`AutocastOptimWrapper`
scales only under fp16. Both wrappers here also ask the model for ``no_sync`` before reading
the accumulation counter, so a ``torch.compile``d ``train_step`` does not guard on (and
recompile for) the counter's value, and both can skip a step whose loss is not finite
(``skip_nonfinite``, switched on by :class:`~mae_mm.engine.NonFiniteLossHook`).

The configs choose through one builder, :func:`build_amp_optim_wrapper` (registered under that
name): :class:`AutocastOptimWrapper` where CUDA exists, fp32 :class:`SkipNonFiniteOptimWrapper`
where not.
"""
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.device import is_cuda_available
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mae_mm.registry import OPTIM_WRAPPERS
from .preemption import signal_received
from .step_agreement import agree

_AMP_ONLY_ARGS = ('loss_scale', 'dtype', 'use_fsdp')


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteOptimWrapper(OptimWrapper):
    """mmengine's :class:`OptimWrapper` that can skip the steps whose loss is not finite, and whose
    context reads the step counter only under DDP.

    Registered under its old name ``LeanOptimWrapper`` too (and importable under it), so configs
    that write ``type='mae_mm.LeanOptimWrapper'`` build this class.

    Attributes:
        skip_nonfinite (bool): Off by default. When True, :meth:`update_params` checks the loss
            before the backward pass (one host synchronisation per call); a loss with a NaN or
            inf gets no backward and no optimizer step (weights, optimizer state and step
            counters stay as they were) and the gradients are zeroed (with gradient
            accumulation, those of the window so far too). Under DDP the ranks agree first
            (:func:`mae_mm.engine.step_agreement.agree`, the step's one small all-reduce, which
            also carries SaveOnSignalHook's flag): a non-finite loss on any rank skips the step
            on every rank, before any of them starts its backward, so the replicas stay equal.
            ``NonFiniteLossHook(on_nonfinite='skip')`` switches it on.
        last_step_skipped (bool): Whether the latest :meth:`update_params` call skipped its
            step for a non-finite loss (this rank's or another's).
        last_loss_nonfinite_here (bool): Whether that call's loss was not finite on this rank.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skip_nonfinite = False
        self.last_step_skipped = False
        self.last_loss_nonfinite_here = False

    def update_params(self, loss: torch.Tensor, step_kwargs: Optional[dict] = None,
                      zero_kwargs: Optional[dict] = None) -> None:
        """mmengine's backward, step and zero_grad; with ``skip_nonfinite`` only for a finite loss."""
        self.last_loss_nonfinite_here = False
        self.last_step_skipped = False
        if self.skip_nonfinite:
            self.last_loss_nonfinite_here = not bool(torch.isfinite(loss).all())
            self.last_step_skipped = agree(signal_received() is not None, self.last_loss_nonfinite_here)[1]
        if self.last_step_skipped:
            self.zero_grad(**(zero_kwargs or {}))
            return
        super().update_params(loss, step_kwargs=step_kwargs, zero_kwargs=zero_kwargs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Skips gradient synchronisation between accumulation steps (DDP only)."""
        if hasattr(model, 'no_sync') and not self.should_sync():
            with model.no_sync():
                yield
        else:
            yield


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(SkipNonFiniteOptimWrapper):
    """Mixed precision: autocast around the forward, a ``GradScaler`` only for float16.

    Args:
        dtype (str | torch.dtype): ``'bfloat16'`` (no loss scaling) or ``'float16'``.
        loss_scale (str | float | dict, optional): float16 only, as in mmengine's
            ``AmpOptimWrapper``: ``'dynamic'`` (the default), a fixed scale, or ``GradScaler``
            arguments. Ignored, with a warning, under bfloat16.
        **kwargs: :class:`OptimWrapper` arguments (``optimizer``, ``clip_grad``...).

    The autocast device is that of the optimizer's parameters, so the wrapper also runs
    (bf16) on CPU, where the tests use it.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16',
                 loss_scale: Optional[Union[str, float, dict]] = None, **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        if self.cast_dtype not in (torch.bfloat16, torch.float16):
            raise ValueError(f'dtype must be bfloat16 or float16, got {dtype}')
        self.device_type = self.optimizer.param_groups[0]['params'][0].device.type
        self.loss_scaler = None
        if self.cast_dtype is torch.float16:
            loss_scale = 'dynamic' if loss_scale is None else loss_scale
            if loss_scale == 'dynamic':
                self.loss_scaler = torch.amp.GradScaler(self.device_type)
            elif isinstance(loss_scale, (int, float)):
                self.loss_scaler = torch.amp.GradScaler(self.device_type, init_scale=loss_scale,
                                                        growth_interval=2 ** 31 - 1)  # fixed
            else:
                self.loss_scaler = torch.amp.GradScaler(self.device_type, **loss_scale)
        elif loss_scale is not None:
            print_log(f'loss_scale={loss_scale!r} is ignored under bfloat16: no loss scaling', 'current',
                      level=30)

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            return super().step(**kwargs)
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()

    def state_dict(self) -> dict:
        state = super().state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Loads the optimizer (and, under float16, the scaler) state.

        A checkpoint of mmengine's ``AmpOptimWrapper`` carries a ``loss_scaler`` entry; it is
        read under float16 and dropped under bfloat16.
        """
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if self.loss_scaler is not None and scaler_state is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(self.device_type, dtype=self.cast_dtype,
                                                          enabled=self.autocast_enabled):
            yield

    autocast_enabled = True

    def disable_autocast(self) -> None:
        """From now on the forward runs in float32 and the loss is not scaled (used after a
        non-finite loss by ``NonFiniteLossHook(on_nonfinite='rollback', disable_amp=True)``)."""
        self.autocast_enabled = False
        self.loss_scaler = None


def build_amp_optim_wrapper(**kwargs) -> SkipNonFiniteOptimWrapper:
    """A builder, not a class: returns the mixed-precision optimizer wrapper this machine can run.

    Registered in ``OPTIM_WRAPPERS`` as ``'build_amp_optim_wrapper'``, so a config writes
    ``optim_wrapper=dict(type='mae_mm.build_amp_optim_wrapper', dtype=..., optimizer=...)``.
    It picks:

    - with CUDA: :class:`AutocastOptimWrapper` with ``dtype``: ``'bfloat16'`` (the default)
      autocasts without a loss scaler, ``'float16'`` with a ``GradScaler`` (dynamic unless
      ``loss_scale`` says otherwise);
    - without CUDA: an fp32 :class:`SkipNonFiniteOptimWrapper`; the AMP-only arguments (``dtype``,
      ``loss_scale``, ``use_fsdp``) are dropped and a warning says so. mmengine's AMP wrapper
      refuses to build without a GPU, which would make every config with AMP unbuildable (and
      untestable) on a CPU-only machine. ``tools/train.py --amp`` forces autocast anyway
      (bf16 autocast runs on CPU).

    Args:
        **kwargs: :class:`AutocastOptimWrapper` arguments (``optimizer``, ``dtype``,
            ``loss_scale``, ``clip_grad``...). The optimizer implementation in use (fused,
            foreach or per-parameter loop) is logged.

    Returns:
        SkipNonFiniteOptimWrapper: an :class:`AutocastOptimWrapper` or a plain
        :class:`SkipNonFiniteOptimWrapper`.
    """
    optimizer = kwargs['optimizer']
    impl = next((name for name in ('fused', 'foreach') if optimizer.defaults.get(name)),
                'torch default (foreach on CUDA)')
    print_log(f'{type(optimizer).__name__}: {impl} implementation', 'current')
    if is_cuda_available():
        return AutocastOptimWrapper(**kwargs)
    print_log('no CUDA device: mixed precision is off, training runs in float32', 'current', level=30)
    return SkipNonFiniteOptimWrapper(**{k: v for k, v in kwargs.items() if k not in _AMP_ONLY_ARGS})


def _renamed_amp_if_available(**kwargs):
    raise ValueError("optim_wrapper type 'AmpIfAvailableOptimWrapper' was renamed: write "
                     "type='mae_mm.build_amp_optim_wrapper' (same arguments; a builder function, not a class)")


LeanOptimWrapper = SkipNonFiniteOptimWrapper  # the old name, listed in the README and in users' configs

OPTIM_WRAPPERS.register_module(name='LeanOptimWrapper', module=SkipNonFiniteOptimWrapper)
OPTIM_WRAPPERS.register_module(name='build_amp_optim_wrapper', module=build_amp_optim_wrapper)
OPTIM_WRAPPERS.register_module(name='AmpIfAvailableOptimWrapper', module=_renamed_amp_if_available)
