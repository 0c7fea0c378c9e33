"""Counts the images that ``LoadCheckedImage(on_error='skip')`` skipped, across worker processes.

Data-loader workers are separate processes, so a counter in the transform never reaches the
main process. Each skip instead appends one line to ``<log_dir>/skipped_images.txt`` (the
folder of the run's log file). This hook hands that path to the train dataset's
``LoadCheckedImage`` transforms (their ``skip_record``, set in ``before_train``: after the
dataset is built, before any worker starts, so the path travels with the dataset into forked and
spawned workers alike), reads the file back and reports: every ``interval`` training
iterations when the count grew, after every epoch, and at the end of training. The total goes to the message hub (``skipped_images``, kept in
checkpoints, so a resumed run carries the count on) and to the visualiser's scalars.

The log shows each skipped file's warning once per process (mmengine's logger drops repeated
warnings); the record file has every skip. Limits: several ranks append to the one file of the
run's log folder and each reads the total, but ranks on machines without a shared file system
only see their own skips. Samples a worker prefetches count when they are loaded, so an
iteration-based report can run a few batches early; the end-of-epoch and end-of-training counts
are exact.
"""
import os.path as osp
from typing import Iterator

from mmengine.hooks import Hook

from ..datasets.transforms import SKIPPED_IMAGES_FILE, LoadCheckedImage
from ..registry import HOOKS


def checked_loaders(node) -> Iterator[LoadCheckedImage]:
    """Every :class:`LoadCheckedImage` of a dataset's pipeline, through dataset wrappers (``dataset``,
    ``datasets``) and composed transforms (``transforms``, lists of them)."""
    if isinstance(node, LoadCheckedImage):
        yield node
    elif isinstance(node, (list, tuple)):
        for child in node:
            yield from checked_loaders(child)
    else:
        for attr in ('pipeline', 'transforms', 'dataset', 'datasets'):
            child = getattr(node, attr, None)
            if child is not None and child is not node:
                yield from checked_loaders(child)


@HOOKS.register_module()
class SkippedImagesHook(Hook):
    """Reports the number of skipped bad images (see the module docstring).

    Args:
        interval (int): check every this many training iterations and log when new skips
            appeared. Defaults to 50.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, interval: int = 50) -> None:
        self.interval = interval
        self.path = None
        self._base = 0  # skips of the runs this one resumed from
        self._reported = 0
        self._epoch_start = 0

    def before_run(self, runner) -> None:
        self.path = osp.join(runner.log_dir, SKIPPED_IMAGES_FILE)

    def before_train(self, runner) -> None:
        # the train loop has built its dataloader; its workers start with the first epoch's iterator
        for loader in checked_loaders(runner.train_dataloader.dataset):
            loader.skip_record = self.path
        self._base = runner.message_hub.get_info('skipped_images', 0)  # after load_or_resume

    def records(self) -> list:
        """The ``(file, reason)`` records of this run so far."""
        if not self.path or not osp.exists(self.path):
            return []
        with open(self.path, encoding='utf-8') as f:
            return [tuple(line.rstrip('\n').split('\t', 1)) for line in f if line.strip()]

    def _report(self, runner, when: str, new: int) -> None:
        records = self.records()
        total = self._base + len(records)
        runner.message_hub.update_info('skipped_images', total)
        runner.visualizer.add_scalars({'skipped_images': total}, step=runner.iter)
        where = f', listed in {self.path}' if records else ''
        runner.logger.info(f'Skipped images {when}: {new}; in total {total} '
                           f'({len({r[0] for r in records})} distinct files in this run{where})')
        self._reported = len(records)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            new = len(self.records()) - self._reported
            if new:
                self._report(runner, f'by iteration {runner.iter + 1}', new)

    def before_train_epoch(self, runner) -> None:
        self._epoch_start = len(self.records())

    def after_train_epoch(self, runner) -> None:
        self._report(runner, f'in epoch {runner.epoch + 1}', len(self.records()) - self._epoch_start)

    def after_train(self, runner) -> None:
        self._report(runner, 'in this run', len(self.records()))
