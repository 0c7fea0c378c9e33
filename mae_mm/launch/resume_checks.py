"""Refuses a ``--resume`` that cannot continue the checkpoint's data stream, before anything is built.

An epoch-based checkpoint records where its data stood (``meta['data_position']``,
:mod:`mae_mm.engine.data_position_hook`): the epoch, the samples of it consumed over all
processes, the data set's size, and the layout that consumed them. A resume continues exactly
from there when each optimizer step still trains the same samples: the same total batch
(processes x batch per process x accumulation) and the same data set. A different number of
processes is fine when the batch per process makes up for it; anything else is refused here,
naming the numbers and the settings that would fit, before the model, the optimizer or the
workers are built.
"""
import copy
import math
from typing import Optional, Tuple

from mmengine.config import Config

from mae_mm.engine.resume import checkpoint_meta
from mae_mm.engine.train_loop import processes as count
from mae_mm.own_data.config_edit import world_size


class ResumeLayoutError(ValueError):
    """A resume that does not fit its checkpoint's data position (tools/train.py: one line, exit 2)."""


def read_data_position(path: str) -> Optional[dict]:
    """``meta['data_position']`` of a checkpoint, read without loading its tensors; None when absent
    (a checkpoint of an older mae_mm, or of an iteration-based run)."""
    return (checkpoint_meta(path) or {}).get('data_position')


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


def check_resume_data_position(cfg: Config) -> None:
    """Raises :class:`ResumeLayoutError` when ``cfg`` resumes (``resume`` and ``load_from`` set) an
    epoch-based checkpoint whose data position this run cannot continue: another total batch, another
    accumulation, another data set size, or another number of steps per epoch."""
    if not (cfg.get('resume') and cfg.get('load_from')):
        return
    if not str((cfg.get('train_cfg') or {}).get('type', '')).endswith('ResumableEpochBasedTrainLoop'):
        return
    path = cfg.load_from
    position = read_data_position(path)
    if position is None:
        return
    processes, batch, counts = planned_layout(cfg)
    before = position['processes'], position['batch_size'], position['accumulative_counts']
    total, now_total = before[0] * before[1] * before[2], processes * batch * counts
    layout = f'{count(before[0])} x {before[1]} per process x accumulation {before[2]} = {total}'
    if now_total != total or counts != before[2]:
        per_process, rest = divmod(total, processes * before[2])
        way = (f'; with {count(processes)}, resume with --cfg-options train_dataloader.batch_size={per_process}'
               + ('' if counts == before[2] else f' optim_wrapper.accumulative_counts={before[2]}')) if not rest else \
            f'; no batch per process gives {total} on {count(processes)}: resume on {count(before[0])}'
        what = ('another accumulation' if now_total == total else
                f'{processes} x {batch} x {counts} = {now_total} samples per step')
        raise ResumeLayoutError(
            f'--resume {path}: trained with {layout} samples per optimizer step; this run has {what}. Each step must '
            f'train the same samples (resuming with another accumulation is not supported yet){way}')
    size = training_set_size(cfg)
    if size != position['dataset_size']:
        raise ResumeLayoutError(
            f'--resume {path}: trained on a data set of {position["dataset_size"]} samples; train_dataloader.dataset '
            f'has {size}. The epoch order and position depend on the size: resume with the data set the run '
            'started with, or start a new run from these weights (--cfg-options load_from=CKPT, no --resume)')
    steps = steps_per_epoch(size, processes, batch, cfg)
    if steps != position['steps_per_epoch']:
        raise ResumeLayoutError(
            f'--resume {path}: {position["steps_per_epoch"]} steps per epoch with {layout}, {steps} with '
            f'{count(processes)} x {batch} on {size} samples (the sampler pads the data set to a multiple of the '
            f'processes): resume on {count(before[0])}')
