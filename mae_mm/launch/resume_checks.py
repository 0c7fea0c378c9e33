"""Refuses a ``--resume`` that cannot continue the checkpoint's data stream, before anything is built.

An epoch-based checkpoint records where its data stood (``meta['data_position']``,
:mod:`mae_mm.engine.data_position_hook`): the epoch, the samples of it consumed over all
processes, the data set's size, and the layout that consumed them. A resume continues exactly
from there when each optimizer step still trains the same samples: the same total batch
(processes x batch per process x accumulation) and the same data set. On another number of
processes (or another batch per process) the accumulation is chosen here to keep the total
(``optim_wrapper.accumulative_counts``, before ``auto_scale_lr`` reads it), and
:mod:`mae_mm.engine.accumulation_change` moves the checkpoint's iteration counters to it. What
cannot be kept is refused here, naming the numbers and the settings that would fit, before the
model, the optimizer or the workers are built.
"""
import copy
import math
from typing import Tuple

from mmengine.config import Config

from mae_mm.engine.resume import checkpoint_meta
from mae_mm.engine.train_loop import processes as count
from mae_mm.own_data.config_edit import world_size


class ResumeLayoutError(ValueError):
    """A resume that does not fit its checkpoint's data position (tools/train.py: one line, exit 2)."""


def planned_layout(cfg: Config) -> Tuple[int, int, int]:
    """(processes, batch per process, accumulation) of the run ``cfg`` describes, read from the
    launcher's environment (torchrun's ``WORLD_SIZE``, Slurm's ``SLURM_NTASKS``) and the config."""
    processes = 1 if cfg.get('launcher', 'none') == 'none' else world_size()
    optim = cfg.get('optim_wrapper') or {}
    return processes, int(cfg.train_dataloader.batch_size), int(optim.get('accumulative_counts', 1) or 1)


def steps_per_epoch(dataset_size: int, processes: int, batch_size: int, cfg: Config) -> int:
    """Iterations of one process per epoch: mmengine's ``DefaultSampler`` gives each process
    ``ceil(N / W)`` positions (rank 0's share without ``round_up``), batched with the config's
    ``drop_last``."""
    per_process = math.ceil(dataset_size / processes)
    if cfg.train_dataloader.get('drop_last', False):
        return per_process // batch_size
    return math.ceil(per_process / batch_size)


def training_set_size(cfg: Config) -> int:
    """The number of samples of ``cfg``'s training data set (built, without its workers)."""
    from mmengine.registry import DATASETS, DefaultScope

    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        return len(DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset)))


def divisors(n: int) -> list:
    """The positive divisors of ``n``, in order."""
    return [d for d in range(1, n + 1) if n % d == 0]


def check_resume_data_position(cfg: Config) -> None:
    """Sets ``optim_wrapper.accumulative_counts`` of a run that resumes (``resume`` and ``load_from``
    set) an epoch-based checkpoint so that each optimizer step trains the checkpoint's total batch
    (processes x batch per process x accumulation); raises :class:`ResumeLayoutError` when this run
    cannot continue the checkpoint's data position: no accumulation gives that total, the
    accumulation would change where its windows cross the epochs or inside a window, another data
    set size, or another number of steps per epoch."""
    if not (cfg.get('resume') and cfg.get('load_from')):
        return
    if not str((cfg.get('train_cfg') or {}).get('type', '')).endswith('ResumableEpochBasedTrainLoop'):
        return
    path = cfg.load_from
    meta = checkpoint_meta(path) or {}
    position = meta.get('data_position')
    if position is None:  # a checkpoint of an older mae_mm, or of an iteration-based run
        return
    processes, batch, counts = planned_layout(cfg)
    before = position['processes'], position['batch_size'], position['accumulative_counts']
    total = before[0] * before[1] * before[2]
    layout = f'{count(before[0])} x {before[1]} per process x accumulation {before[2]} = {total}'
    trained = f'--resume {path}: trained with {layout} samples per optimizer step'
    if total % (processes * batch):
        if total % processes:
            way = (f'no batch per process makes {total} on {count(processes)}: resume on a number of processes '
                   f'that divides {total} ({", ".join(map(str, divisors(total)))})')
        else:
            fits = divisors(total // processes)
            way = (f'resume with --cfg-options train_dataloader.batch_size=N, N one of {", ".join(map(str, fits))} '
                   f'(accumulation {total // processes}/N)')
        raise ResumeLayoutError(f'{trained}; {count(processes)} x {batch} per process cannot make {total} with a whole '
                                f'accumulation, and each step must train the same samples: {way}')
    chosen = total // (processes * batch)
    old_steps = position['steps_per_epoch']
    if chosen != before[2]:
        iteration = int(meta.get('iter', 0))
        if old_steps % before[2] or iteration % before[2]:
            where = (f'its {old_steps} iterations per epoch are not whole windows of {before[2]}' if old_steps % before[2]
                     else f'it was saved at iteration {iteration}, inside a window of {before[2]}')
            same_windows = total // (processes * before[2])
            way = (f'train_dataloader.batch_size={same_windows} (accumulation {before[2]})'
                   if total % (processes * before[2]) == 0 else f'{count(before[0])} x {before[1]}')
            raise ResumeLayoutError(f'{trained}; {count(processes)} x {batch} needs accumulation {chosen}, but {where}, '
                                    f'so the steps would not train the same samples: resume with {way}')
    size = training_set_size(cfg)
    if size != position['dataset_size']:
        raise ResumeLayoutError(
            f'--resume {path}: trained on a data set of {position["dataset_size"]} samples; train_dataloader.dataset '
            f'has {size}. The epoch order and position depend on the size: resume with the data set the run '
            'started with, or start a new run from these weights (--cfg-options load_from=CKPT, no --resume)')
    steps = steps_per_epoch(size, processes, batch, cfg)
    if steps * before[2] != old_steps * chosen:
        raise ResumeLayoutError(
            f'--resume {path}: {old_steps // before[2]} optimizer steps per epoch with {layout}, '
            f'{steps / chosen:g} with {count(processes)} x {batch} x accumulation {chosen} on {size} samples (the '
            f'sampler pads the data set to a multiple of the processes, the last batch is partial): resume on '
            f'{count(before[0])} x {before[1]}')
    if chosen != counts:
        cfg.optim_wrapper.accumulative_counts = chosen
