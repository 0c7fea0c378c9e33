"""Every random stream of a run saved in its checkpoints and restored on resume.

mmengine's resume restores the weights, optimizer, lr schedule, loop counters and the seed,
then re-seeds from scratch: the masking noise, drop-path and the main-process augmentation
after a resume are not those of the uninterrupted run. This hook stores the Python, numpy,
torch and CUDA generator states of every rank in each checkpoint and puts them back at the
point of the loop that matches the save: the start of the next epoch for an epoch-based loop,
the first iteration after mmengine has skipped the trained batches for an iteration-based one.
:class:`~mae_mm.engine.train_loop.ResumableEpochBasedTrainLoop` takes the states over and puts
them back itself, at the end of the trained batches when a checkpoint was saved in the middle
of an epoch.

Validation runs between a save and the next training step, so it must not consume the
training streams either (else an uninterrupted run, which validated, and a resumed run, which
did not, diverge): the states are put aside before validation and restored after it. As a
side effect, how often one validates no longer changes training.

What it does not cover: DataLoader workers with ``persistent_workers=True`` keep their own
augmentation streams across epochs, which a resumed run restarts; bit-exact resume needs
``persistent_workers=False`` (our training configs) or ``num_workers=0``.
"""
import logging
import random
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from mae_mm.registry import HOOKS

CHECKPOINT_KEY = 'random_states'


def capture_random_state() -> Dict:
    """This process's generator states: python, numpy, torch CPU and (if in use) CUDA."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(legacy=False),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: Dict) -> None:
    """Sets the generators from :func:`capture_random_state`'s output."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _iter_checkpoint_due(runner) -> bool:
    """Whether an iteration-based CheckpointHook saves after this iteration (its own condition)."""
    for hook in runner.hooks:
        if isinstance(hook, CheckpointHook) and not hook.by_epoch:
            if hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or \
                    (hook.save_last and hook.is_last_train_iter(runner)):
                return True
    return False


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves the random states of all ranks with each checkpoint and restores them on resume."""

    priority = 'VERY_HIGH'

    def __init__(self):
        self._pending: Optional[Dict] = None
        self._before_val: Optional[Dict] = None
        self._gathered: Optional[List[Dict]] = None
        self._gathered_at = -1

    def gather_random_states(self, runner) -> None:
        """Collects every rank's states for a save of this iteration; runs on all ranks
        (mmengine saves from rank 0 only, so the collective cannot live in
        ``before_save_checkpoint``). Hooks that save outside the CheckpointHook's schedule
        (SaveOnSignalHook) call it first."""
        state = capture_random_state()
        self._gathered = all_gather_object(state) if get_world_size() > 1 else [state]
        self._gathered_at = runner.iter

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        # runs before the CheckpointHook's after_train_iter (priority), on every rank
        if get_world_size() > 1 and _iter_checkpoint_due(runner):
            self.gather_random_states(runner)

    def after_train_epoch(self, runner) -> None:
        if get_world_size() > 1:
            self.gather_random_states(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._gathered is None or self._gathered_at != runner.iter:
            # one process, or a save we did not foresee: this process's states only
            self._gathered = [capture_random_state()]
        checkpoint[CHECKPOINT_KEY] = self._gathered

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False) or CHECKPOINT_KEY not in checkpoint:
            return
        states = checkpoint[CHECKPOINT_KEY]
        if len(states) != get_world_size():
            print_log(f'the checkpoint holds the random states of {len(states)} processes and this run has '
                      f'{get_world_size()}: training resumes with fresh random streams (not bit-exact)',
                      logger='current', level=logging.WARNING)
            return
        if hasattr(runner.train_loop, 'set_resume_random_state'):  # the loop restores them where they belong
            runner.train_loop.set_resume_random_state(states[get_rank()])
            return
        self._pending = states[get_rank()]

    def _restore_pending(self) -> None:
        if self._pending is not None:
            restore_random_state(self._pending)
            self._pending = None

    def before_train_epoch(self, runner) -> None:
        # an epoch-based loop saved at the end of an epoch: restore before the next epoch's
        # DataLoader iterator is made (it draws its worker seed from the torch generator)
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            self._restore_pending()

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # an iteration-based loop saved after an iteration; mmengine has now skipped the
        # batches already trained on (which consumed augmentation randomness)
        self._restore_pending()

    def before_val_epoch(self, runner) -> None:
        self._before_val = capture_random_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._before_val is not None:
            restore_random_state(self._before_val)
            self._before_val = None
