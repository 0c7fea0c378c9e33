"""Refuses, before anything is built, a parameter schedule that does not fit the run's length.

The configs leave ``end`` out of their last lr phase, so mmengine's Runner sets it to the train
loop's ``max_epochs`` / ``max_iters`` and ``--cfg-options train_cfg.max_epochs=N`` alone gives
the same schedule over N epochs (cosine ``T_max`` and poly's span follow ``end``;
:class:`mae_mm.engine.FractionalMultiStepLR` places its milestones at fractions of it). A
warmup keeps its absolute length, as in the paper's schedule-length study (Fig. 7: 40 warmup
epochs at every length). What cannot follow the length is refused here, naming the keys:

- a phase that begins at or after the run's end (a warmup longer than the run);
- an explicit ``end`` past the run's end (the schedule would be cut short);
- a schedule whose last phase ends before the run does (the lr would sit at its last value);
- absolute positions (``milestones``, ``T_max``) kept from the config file while the length was
  changed on the command line;
- a checkpoint interval longer than the run with ``save_last=False`` (no checkpoint at all).
"""
from typing import List, Optional, Tuple

from mae_mm.engine.schedule_resume_check_hook import labelled_schedulers


def _length(train_cfg) -> Optional[Tuple[bool, int, str]]:
    """(by_epoch, length, key) of the train loop, or None for a loop without a known length."""
    train_cfg = train_cfg or {}
    for by_epoch, key in ((True, 'max_epochs'), (False, 'max_iters')):
        if isinstance(train_cfg.get(key), int):
            return by_epoch, train_cfg[key], f'train_cfg.{key}'
    return None


def _schedulers(param_scheduler) -> List[Tuple[str, dict]]:
    """(config key, scheduler config) of the scheduler configs in ``param_scheduler``."""
    return [(label, s) for label, s in labelled_schedulers(param_scheduler) if isinstance(s, dict)]


def schedule_problems(cfg, file_cfg=None) -> List[str]:
    """What in ``cfg``'s schedule does not fit its length (the module docstring's list), each
    naming the keys; ``file_cfg``: the config as its file states it, before ``--cfg-options``
    (None: the length is taken as unchanged)."""
    run = _length(cfg.get('train_cfg'))
    if run is None:
        return []
    loop_by_epoch, length, length_key = run
    unit = 'epoch' if loop_by_epoch else 'iteration'
    file_run = _length(file_cfg.get('train_cfg')) if file_cfg is not None else None
    length_changed = file_run is not None and file_run[1] != length
    file_schedulers = dict(_schedulers(file_cfg.get('param_scheduler'))) if file_cfg is not None else {}
    problems, last_end = [], None
    for label, sched in _schedulers(cfg.get('param_scheduler')):
        if bool(sched.get('by_epoch', True)) != loop_by_epoch:
            continue  # counted in the other unit: its span is the loop's business
        name = f'{label} ({sched.get("type")})'
        begin, end = sched.get('begin', 0), sched.get('end', length)
        if begin >= length:
            problems.append(f'{name} begins at {unit} {begin}, not before the run ends ({length_key}={length}): '
                            f'a warmup or phase longer than the run; shorten the phases before it or lengthen the run')
        elif end > length:
            problems.append(f'{name} ends at {unit} {end}, after the run ends ({length_key}={length}), so it would '
                            f'be cut short: leave {label}.end out (it then follows {length_key}) or set it')
        for key in ('milestones', 'T_max'):
            if key not in sched:
                continue
            if key == 'milestones' and any(begin + m >= min(end, length) for m in sched[key]):
                problems.append(f'{name} has milestones {list(sched[key])} at or after its end ({unit} '
                                f'{min(end, length)}): they are never reached')
            elif length_changed and file_schedulers.get(label, {}).get(key) == sched[key]:
                hint = ('use mae_mm.FractionalMultiStepLR with milestone_fractions' if key == 'milestones'
                        else f'leave {label}.T_max out (it then follows the span)')
                problems.append(f'{length_key} changed from {file_run[1]} to {length} but {label}.{key}={sched[key]} '
                                f'is absolute and unchanged: set it for the new length too, or {hint}')
        last_end = end if last_end is None else max(last_end, end)
    if last_end is not None and last_end < length:
        problems.append(f'the lr schedule ends at {unit} {last_end} but the run goes on to {length} ({length_key}): '
                        f'the lr would stay at its last value; leave the last phase\'s `end` out, so that it '
                        f'follows {length_key}')
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    if (checkpoint.get('save_last', True) is False and bool(checkpoint.get('by_epoch', True)) == loop_by_epoch
            and checkpoint.get('interval', 1) > length):
        problems.append(f'default_hooks.checkpoint.interval={checkpoint["interval"]} is longer than the run '
                        f'({length_key}={length}) and save_last=False: no checkpoint would be written')
    return problems


def check_schedule(cfg, file_cfg=None, config_path: str = 'the config') -> None:
    """Raises ValueError listing :func:`schedule_problems`, naming ``config_path``."""
    problems = schedule_problems(cfg, file_cfg)
    if problems:
        raise ValueError(f'{config_path}: the schedule does not fit the run\'s length:\n  - '
                         + '\n  - '.join(problems))
