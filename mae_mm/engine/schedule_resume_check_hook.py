"""Refuses a ``--resume`` whose checkpoint holds a schedule of another length than the run's.

mmengine restores each parameter scheduler's whole state on resume, its ``begin``, ``end``,
``T_max``, ``total_iters`` and ``milestones`` included. A run resumed with a changed
``train_cfg.max_epochs`` (or ``max_iters``) then trains to the new length on the old schedule:
stopped early, the lr never decays to its end; made longer, it sits at the end value for the
extra epochs. Re-deriving the rest of a cosine from the middle is not what either length's
schedule would have been, so this hook stops the run instead, before the first iteration,
naming both values and the way out.
"""
import copy
from typing import Dict, List, Tuple

from mmengine.hooks import Hook

from mae_mm.registry import HOOKS

# The scheduler attributes that place it in the run (mmengine 0.10's names); the others (the
# current step, the last values) move as it runs and legitimately differ after a resume.
SPAN_KEYS = ('begin', 'end', 'T_max', 'total_iters', 'milestones')


def labelled_schedulers(param_schedulers) -> List[Tuple[str, object]]:
    """(config key, scheduler) of each scheduler, config or built, in mmengine's forms: one
    scheduler config, a list, or a dict of lists (one per optimizer)."""
    if not param_schedulers:
        return []
    if isinstance(param_schedulers, dict) and 'type' not in param_schedulers:
        return [(f'param_scheduler.{name}[{i}]', s) for name, group in param_schedulers.items()
                for i, s in enumerate(group or [])]
    if isinstance(param_schedulers, dict):
        param_schedulers = [param_schedulers]
    return [(f'param_scheduler[{i}]', s) for i, s in enumerate(param_schedulers)]


def _span(scheduler) -> Dict[str, object]:
    return {k: copy.deepcopy(getattr(scheduler, k)) for k in SPAN_KEYS if hasattr(scheduler, k)}


@HOOKS.register_module()
class ScheduleResumeCheckHook(Hook):
    """Records the schedulers this run built (``after_load_checkpoint``: built, adjusted by the
    ``before_run`` hooks, and not yet overwritten by the checkpoint's states, which mmengine loads
    after this hook) and compares the ones training starts with (``before_train``).

    Raises:
        ValueError: at ``before_train``, when a resumed scheduler's span differs from this run's;
            the message names the scheduler, each key, both values and ``train_cfg``'s length.
    """
    priority = 'VERY_HIGH'

    def __init__(self):
        self._built: List[Tuple[str, str, Dict]] = []

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False) and not self._built:  # the first resume, not a rollback's
            self._built = [(label, type(s).__name__, _span(s))
                           for label, s in labelled_schedulers(runner.param_schedulers)]

    def before_train(self, runner) -> None:
        resumed = dict(labelled_schedulers(runner.param_schedulers))
        problems = []
        for label, kind, built in self._built:
            now = _span(resumed[label]) if label in resumed else {}
            problems += [f'{label} ({kind}) {key}: {now.get(key)} in the checkpoint, {value} for this run'
                         for key, value in built.items() if now.get(key) != value]
        if problems:
            length = {k: v for k, v in runner.cfg.get('train_cfg', {}).items() if k in ('max_epochs', 'max_iters')}
            raise ValueError(
                f'--resume from {runner.cfg.get("load_from")}: the checkpoint\'s schedule does not fit this run '
                f'(train_cfg {length}); mmengine would restore the old one and train to the new length on it:\n  '
                + '\n  '.join(problems) + '\nResume with the length the run started with, or start a new run from '
                'these weights with --cfg-options load_from=CKPT (no --resume).')
