"""What a run does when its loss turns NaN or infinite: stop and say where, skip the step, or roll back."""
import logging
import math
from typing import Dict, Optional

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mae_mm.registry import HOOKS
from .optim_wrapper import SkipNonFiniteOptimWrapper
from .optim_wrapper_members import optim_wrappers
from .preemption import signal_received
from .resume import find_resumable_checkpoint, run_checkpoint_hook
from .step_agreement import agree
from .train_loop import RollbackRequested


def _loss_terms(outputs: Optional[Dict]) -> Dict[str, float]:
    """The scalar loss terms of a train step's log variables, as floats."""
    terms = {}
    for name, value in (outputs or {}).items():
        if 'loss' not in name:
            continue
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                continue
            value = value.item()
        terms[name] = float(value)
    return terms


def _schedulers(param_schedulers) -> list:
    """The run's parameter schedulers as one list (mmengine keeps a list, or a dict of lists)."""
    if isinstance(param_schedulers, dict):
        return [s for group in param_schedulers.values() for s in group]
    return list(param_schedulers or [])


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Watches every training step's loss terms.

    Args:
        on_nonfinite (str): ``'stop'`` raises ``FloatingPointError`` naming the iteration, the
            epoch and every loss term, before any checkpoint of that iteration is written (the
            last checkpoint on disk is the last good one). ``'skip'`` switches on the
            ``skip_nonfinite`` mode of this package's optimizer wrappers
            (:class:`~mae_mm.engine.optim_wrapper.SkipNonFiniteOptimWrapper` and its subclasses), which
            check the total loss before the backward pass and, when it is not finite, skip the
            backward and the optimizer step of that iteration (weights, optimizer state and
            step count stay as they were); the hook logs it and counts it in the message hub
            under ``train/skipped_nonfinite_steps``. Another wrapper type is refused before
            training, naming it.
        max_consecutive_skips (int): With ``'skip'``, stop anyway after this many non-finite
            steps in a row: a run that keeps diverging should not burn its budget.

    ``'rollback'`` goes back to the newest whole checkpoint of the run (weights, optimizer, loss
    scale, lr schedule, loop counters, data order and random states, through the train loop:
    :class:`~mae_mm.engine.train_loop.ResumableEpochBasedTrainLoop` or its iteration-based
    twin; another loop is refused before training), then continues from there, with the lr
    scaled by ``lr_factor`` and, with ``disable_amp``, mixed precision off from then on. It logs
    the iteration, the loss terms and the checkpoint, and counts the rollbacks
    (``nonfinite_rollbacks`` in the log and scalars, kept in later checkpoints). Arguments:

        max_rollbacks (int): After this many rollbacks a non-finite loss stops the run as
            ``'stop'`` does (0: the first one does).
        lr_factor (float): In (0, 1]: each rollback multiplies every parameter group's lr, and
            the schedulers' base values, by it (the k-th rollback runs at ``lr_factor ** k`` of
            the schedule, whichever checkpoint it goes back to).
        disable_amp (bool): Turn mixed precision off at the first rollback (this package's
            ``AutocastOptimWrapper``), for the rest of the run and its resumptions.

    Each mode is a method ``_on_<mode>(runner, where, listed)`` called after an iteration whose
    loss was not finite; a new mode is one more method and one more entry in :attr:`MODES`.

    Under DDP every rank takes the same decision for the same step: a non-finite loss on any rank
    skips (agreed before any backward), stops or rolls back on all of them, through the step's one
    small all-reduce (:mod:`mae_mm.engine.step_agreement`, shared with SaveOnSignalHook). The
    messages say which rank's loss was not finite.

    Under fp16 with a dynamic loss scale, the ``GradScaler`` already skips steps whose
    *gradients* overflow (and lowers the scale); this hook is about the loss itself.
    """

    priority = 'ABOVE_NORMAL'  # after_train_iter runs before the CheckpointHook's
    MODES = ('stop', 'skip', 'rollback')
    # message hub info, saved in every checkpoint: how many rollbacks, and whether AMP is off
    ROLLBACKS_KEY, AMP_OFF_KEY, LR_SCALE_KEY = 'nonfinite_rollbacks', 'nonfinite_amp_off', 'nonfinite_lr_scale'

    def __init__(self, on_nonfinite: str = 'stop', max_consecutive_skips: int = 20, max_rollbacks: int = 3,
                 lr_factor: float = 1.0, disable_amp: bool = False):
        if on_nonfinite not in self.MODES:
            raise ValueError(f'NonFiniteLossHook.on_nonfinite must be one of {self.MODES}, got {on_nonfinite!r}')
        if max_consecutive_skips < 1:
            raise ValueError(f'NonFiniteLossHook.max_consecutive_skips must be >= 1, got {max_consecutive_skips}')
        if max_rollbacks < 0:
            raise ValueError(f'NonFiniteLossHook.max_rollbacks must be >= 0, got {max_rollbacks}')
        if not 0.0 < lr_factor <= 1.0:
            raise ValueError(f'NonFiniteLossHook.lr_factor must be in (0, 1], got {lr_factor}')
        self.on_nonfinite = on_nonfinite
        self.max_consecutive_skips = max_consecutive_skips
        self.max_rollbacks = max_rollbacks
        self.lr_factor = lr_factor
        self.disable_amp = disable_amp
        self.skipped = 0
        self.consecutive = 0

    def before_train(self, runner) -> None:
        if self.on_nonfinite == 'skip':
            self.enable_skipping(runner.optim_wrapper)
        if self.on_nonfinite == 'rollback':
            if not getattr(runner.train_loop, 'supports_rollback', False):
                loop = type(runner.train_loop)
                raise TypeError(f"NonFiniteLossHook(on_nonfinite='rollback') needs a train loop that can go back to a "
                                f'checkpoint, got {loop.__module__}.{loop.__name__}: set train_cfg.type to '
                                "'mae_mm.ResumableEpochBasedTrainLoop' or 'mae_mm.ResumableIterBasedTrainLoop'")
            if runner.message_hub.get_info(self.AMP_OFF_KEY, False):  # a resumed run that had turned it off
                self._disable_amp(runner)

    @staticmethod
    def enable_skipping(optim_wrapper) -> None:
        """Switches on ``skip_nonfinite`` in the run's optimizer wrapper(s); raises ``TypeError``
        naming a wrapper that is not one of this package's."""
        for wrapper in optim_wrappers(optim_wrapper):
            if not isinstance(wrapper, SkipNonFiniteOptimWrapper):
                raise TypeError(
                    f"NonFiniteLossHook(on_nonfinite='skip') needs an optimizer wrapper that can skip a step, "
                    f'got {type(wrapper).__module__}.{type(wrapper).__name__}: set optim_wrapper.type to '
                    "'mae_mm.build_amp_optim_wrapper', 'mae_mm.AutocastOptimWrapper' or "
                    "'mae_mm.SkipNonFiniteOptimWrapper' "
                    "(or use on_nonfinite='stop')")
            wrapper.skip_nonfinite = True

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        terms = _loss_terms(outputs)
        finite_here = all(math.isfinite(v) for v in terms.values())
        if self.on_nonfinite == 'skip':  # the optimizer wrapper's agreement, made before the backward
            wrappers = optim_wrappers(runner.optim_wrapper)
            finite = finite_here and not any(getattr(w, 'last_step_skipped', False) for w in wrappers)
        elif get_world_size() > 1:  # every rank stops or goes back, or none: the step's one all-reduce
            finite = not agree(signal_received() is not None, not finite_here)[1]
        else:
            finite = finite_here
        if finite:
            self.consecutive = 0
            return
        where = f'iteration {runner.iter + 1} (epoch {runner.epoch + 1})'
        if not finite_here:
            where += f' on rank {get_rank()}' if get_world_size() > 1 else ''
        else:
            where += f' on another rank (rank {get_rank()}\'s loss is finite)'
        listed = ', '.join(f'{k}={v}' for k, v in terms.items())
        getattr(self, f'_on_{self.on_nonfinite}')(runner, where, listed)

    def _on_stop(self, runner, where: str, listed: str) -> None:
        raise FloatingPointError(f'non-finite loss at {where}: {listed}. The run stops; the last checkpoint '
                                 f'written before this iteration is intact (resume with --resume). Set '
                                 f"NonFiniteLossHook(on_nonfinite='skip') to skip such steps instead.")

    def _on_rollback(self, runner, where: str, listed: str) -> None:
        done = runner.message_hub.get_info(self.ROLLBACKS_KEY, 0)
        if done >= self.max_rollbacks:
            raise FloatingPointError(f'non-finite loss at {where}: {listed}, after {done} rollbacks '
                                     f'(max_rollbacks={self.max_rollbacks}): the run stops; the last checkpoint '
                                     'written before this iteration is intact')
        ckpt_hook = run_checkpoint_hook(runner)
        checkpoint = find_resumable_checkpoint(getattr(ckpt_hook, 'out_dir', None) or runner.work_dir)
        if checkpoint is None:
            raise FloatingPointError(f'non-finite loss at {where}: {listed}, and no whole checkpoint of this run '
                                     'to roll back to: the run stops')
        count, scale = done + 1, self.lr_factor ** (done + 1)

        def after_loading(runner) -> None:
            # the checkpoint's lr carries the scale of the rollbacks before it was saved
            ratio = scale / runner.message_hub.get_info(self.LR_SCALE_KEY, 1.0)
            if ratio != 1.0:
                for wrapper in optim_wrappers(runner.optim_wrapper):
                    for group in wrapper.param_groups:
                        group['lr'] *= ratio
                for scheduler in _schedulers(runner.param_schedulers):
                    if getattr(scheduler, 'param_name', 'lr') == 'lr':
                        scheduler.base_values = [v * ratio for v in scheduler.base_values]
            if self.disable_amp:
                self._disable_amp(runner)
            hub = runner.message_hub
            hub.update_info(self.ROLLBACKS_KEY, count)
            hub.update_info(self.LR_SCALE_KEY, scale)
            hub.update_scalar('train/nonfinite_rollbacks', count)
            changes = [f'lr x {scale:g} of the schedule'] if scale != 1.0 else []
            changes += ['mixed precision off'] if self.disable_amp else []
            print_log(f'non-finite loss at {where}: {listed}; rollback {count} of at most {self.max_rollbacks}: back '
                      f'to {checkpoint} (iteration {runner.iter}){"; " + ", ".join(changes) if changes else ""}',
                      logger='current', level=logging.WARNING)

        raise RollbackRequested(checkpoint, f'non-finite loss at {where}: {listed}', after_loading)

    def _disable_amp(self, runner) -> None:
        for wrapper in optim_wrappers(runner.optim_wrapper):
            if hasattr(wrapper, 'disable_autocast'):
                wrapper.disable_autocast()
        runner.message_hub.update_info(self.AMP_OFF_KEY, True)

    def _on_skip(self, runner, where: str, listed: str) -> None:
        self.skipped += 1
        self.consecutive += 1
        runner.message_hub.update_scalar('train/skipped_nonfinite_steps', self.skipped)
        print_log(f'non-finite loss at {where}: {listed}; skipped that step (no backward, no optimizer step); '
                  f'{self.skipped} skipped so far', logger='current', level=logging.WARNING)
        if self.consecutive >= self.max_consecutive_skips:
            raise FloatingPointError(f'{self.consecutive} non-finite losses in a row up to {where}: the run '
                                     f'diverged; the last checkpoint on disk is intact')
