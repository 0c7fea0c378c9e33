"""What a run does when its loss turns NaN or infinite: stop and say where, or skip the step."""
import logging
import math
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mae_mm.registry import HOOKS


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


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Watches every training step's loss terms.

    Args:
        on_nonfinite (str): ``'stop'`` raises ``FloatingPointError`` naming the iteration, the
            epoch and every loss term, before any checkpoint of that iteration is written (the
            last checkpoint on disk is the last good one). ``'skip'`` checks the total loss
            before the backward pass and, when it is not finite, skips the backward and the
            optimizer step of that iteration (weights, optimizer state and step count stay
            as they were), logs it and counts it in the message hub under
            ``train/skipped_nonfinite_steps``.
        max_consecutive_skips (int): With ``'skip'``, stop anyway after this many non-finite
            steps in a row: a run that keeps diverging should not burn its budget.

    Under fp16 with a dynamic loss scale, mmengine's ``AmpOptimWrapper`` already skips steps
    whose *gradients* overflow (and lowers the scale); this hook is about the loss itself.
    """

    priority = 'ABOVE_NORMAL'  # after_train_iter runs before the CheckpointHook's

    def __init__(self, on_nonfinite: str = 'stop', max_consecutive_skips: int = 20):
        if on_nonfinite not in ('stop', 'skip'):
            raise ValueError(f"NonFiniteLossHook.on_nonfinite must be 'stop' or 'skip', got {on_nonfinite!r}")
        if max_consecutive_skips < 1:
            raise ValueError(f'NonFiniteLossHook.max_consecutive_skips must be >= 1, got {max_consecutive_skips}')
        self.on_nonfinite = on_nonfinite
        self.max_consecutive_skips = max_consecutive_skips
        self.skipped = 0
        self.consecutive = 0
        self._skipped_this_iter = False

    def before_train(self, runner) -> None:
        if self.on_nonfinite == 'skip':
            self._guard(runner.optim_wrapper)

    def _guard(self, optim_wrapper) -> None:
        """Wraps ``update_params`` of the optimizer wrapper(s) to skip non-finite losses."""
        wrappers = optim_wrapper.values() if hasattr(optim_wrapper, 'optim_wrappers') else [optim_wrapper]
        for wrapper in wrappers:
            if getattr(wrapper, '_nonfinite_guarded', False):
                continue
            update_params = wrapper.update_params

            def guarded(loss, *args, _update=update_params, _wrapper=wrapper, **kwargs):
                if bool(torch.isfinite(loss).all()):
                    return _update(loss, *args, **kwargs)
                self._skipped_this_iter = True
                _wrapper.zero_grad()
                return None

            wrapper.update_params = guarded
            wrapper._nonfinite_guarded = True

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        terms = _loss_terms(outputs)
        finite = all(math.isfinite(v) for v in terms.values())
        if finite and not self._skipped_this_iter:
            self.consecutive = 0
            return
        where = f'iteration {runner.iter + 1} (epoch {runner.epoch + 1})'
        listed = ', '.join(f'{k}={v}' for k, v in terms.items())
        if self.on_nonfinite == 'stop':
            raise FloatingPointError(f'non-finite loss at {where}: {listed}. The run stops; the last checkpoint '
                                     f'written before this iteration is intact (resume with --resume). Set '
                                     f"NonFiniteLossHook(on_nonfinite='skip') to skip such steps instead.")
        self._skipped_this_iter = False
        self.skipped += 1
        self.consecutive += 1
        runner.message_hub.update_scalar('train/skipped_nonfinite_steps', self.skipped)
        print_log(f'non-finite loss at {where}: {listed}; skipped that step (no backward, no optimizer step); '
                  f'{self.skipped} skipped so far', logger='current', level=logging.WARNING)
        if self.consecutive >= self.max_consecutive_skips:
            raise FloatingPointError(f'{self.consecutive} non-finite losses in a row up to {where}: the run '
                                     f'diverged; the last checkpoint on disk is intact')
