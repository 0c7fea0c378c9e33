"""Where the training data stands, in samples, in every checkpoint; augmentation per sample.

Each checkpoint of an epoch-based run gets ``meta['data_position']``: the epoch being trained,
the samples of it already consumed counted over all processes, the data set's size and the
layout that consumed them (processes x batch per process x accumulation). A resume
(:class:`~mae_mm.engine.train_loop.ResumableEpochBasedTrainLoop`) then starts the epoch at that
sample in the sampler (:class:`~mae_mm.datasets.ResumableSampler`): nothing already trained is
read, decoded or augmented, so a resume costs the same wherever the epoch stands.

Skipping samples is exact only if no augmentation draw depends on the samples a worker
processed before: with ``per_sample_augmentation`` (the default) the training data set's
pipeline draws from generators seeded by (seed, epoch, sample index)
(:class:`~mae_mm.datasets.PerSampleSeededPipeline`), so the data stream is the same whatever the
number of workers and wherever the run resumed. Without it, with DataLoader workers, the loop
draws and drops the trained batches as before.
"""
import logging
from typing import Optional

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mae_mm.registry import HOOKS
from .accumulation_change import rescale_counters
from .optim_wrapper_members import accumulation

CHECKPOINT_KEY = 'data_position'


def data_position(runner, iterations_done: int) -> dict:
    """The position after ``iterations_done`` iterations of an epoch-based run: ``epoch`` (0-based,
    the epoch to train next when the previous one is complete), ``samples`` consumed in it over
    all processes, ``dataset_size``, ``processes``, ``batch_size`` (per process),
    ``accumulative_counts``, ``steps_per_epoch`` (iterations of one process) and
    ``per_sample_augmentation``."""
    from mae_mm.datasets.per_sample_seed import PerSampleSeededPipeline

    loader = runner.train_loop.dataloader
    length = len(loader)
    epoch, done = divmod(iterations_done, length) if length else (0, 0)
    return dict(epoch=int(epoch), samples=int(done * loader.batch_size * get_world_size()),
                dataset_size=len(loader.dataset), processes=get_world_size(), batch_size=int(loader.batch_size),
                accumulative_counts=accumulation(runner),
                steps_per_epoch=int(length),
                per_sample_augmentation=isinstance(getattr(loader.dataset, 'pipeline', None), PerSampleSeededPipeline))


@HOOKS.register_module()
class DataPositionHook(Hook):
    """Records the data position in each checkpoint, hands it to the train loop on resume, and
    seeds the training pipeline's draws per sample.

    Args:
        per_sample_augmentation (bool): replace the training data set's ``pipeline`` by a
            :class:`~mae_mm.datasets.PerSampleSeededPipeline` (epoch-based loops, non-persistent
            workers; otherwise the log says why not).
    """
    priority = 'VERY_HIGH'

    def __init__(self, per_sample_augmentation: bool = True):
        self.per_sample_augmentation = per_sample_augmentation

    @staticmethod
    def _epoch_based(runner) -> bool:
        from .train_loop import ResumableEpochBasedTrainLoop
        return isinstance(runner.train_loop, ResumableEpochBasedTrainLoop)

    def before_train(self, runner) -> None:
        if not (self.per_sample_augmentation and self._epoch_based(runner)):
            return
        from mae_mm.datasets.per_sample_seed import PerSampleSeededPipeline
        loader = runner.train_loop.dataloader
        dataset = loader.dataset
        why_not: Optional[str] = None
        if not callable(getattr(dataset, 'pipeline', None)):
            why_not = f'the training data set ({type(dataset).__name__}) has no pipeline attribute'
        elif loader.num_workers > 0 and loader.persistent_workers:
            why_not = 'persistent_workers=True keeps the data set the workers copied at the first epoch'
        if why_not is not None:
            print_log(f'augmentation is not seeded per sample ({why_not}): a resume inside an epoch draws and drops '
                      'the batches already trained', logger='current', level=logging.WARNING)
            return
        if not isinstance(dataset.pipeline, PerSampleSeededPipeline):
            # the sampler's seed, the one every process shares (runner.seed is seed + rank under
            # randomness.diff_rank_seed, our configs' setting)
            seed = getattr(loader.sampler, 'seed', runner.seed)
            dataset.pipeline = PerSampleSeededPipeline(dataset.pipeline, seed)
            print_log(f'augmentation draws seeded per sample by (seed {seed}, epoch, sample index): the same '
                      'whatever the number of workers or processes', logger='current')

    def before_train_epoch(self, runner) -> None:
        from mae_mm.datasets.per_sample_seed import PerSampleSeededPipeline
        pipeline = getattr(runner.train_loop.dataloader.dataset, 'pipeline', None)
        if isinstance(pipeline, PerSampleSeededPipeline):
            pipeline.epoch = runner.epoch  # before the loop makes the epoch's iterator (workers copy it then)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        if 'iter' in meta and self._epoch_based(runner):
            meta[CHECKPOINT_KEY] = data_position(runner, int(meta['iter']))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        position = (checkpoint.get('meta') or {}).get(CHECKPOINT_KEY)
        if not (getattr(runner, '_resume', False) and position is not None and self._epoch_based(runner)):
            return
        before, now = int(position['accumulative_counts']), accumulation(runner)
        if before != now:  # another layout, the same total batch (mae_mm.launch.resume_checks chose `now`);
            # the loop's resume line says so
            rescale_counters(checkpoint, runner.param_schedulers, before, now)
        runner.train_loop.set_resume_data_position(position, runner.cfg.get('load_from'))
