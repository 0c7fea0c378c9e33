"""The data side of resuming inside an epoch: drawing and dropping the trained batches, or skipping them.

    python tools/benchmark_resume.py [--images 3000] [--data DIR] [--workers 2] [--batch 32]
                                     [--repeats 3] [--fractions 0.1 0.5 0.9] [--config CONFIG]

A run resumed after ``done`` batches of an epoch must give the training step batch ``done`` of
that epoch next. :class:`~mae_mm.engine.train_loop.ResumableEpochBasedTrainLoop` gets there in
one of two ways, both timed here on the same DataLoader settings:

- ``draw and drop`` (before issue 32, and still the way without per-sample augmentation):
  ``iter(loader)``, then ``done`` calls of ``next`` whose batches are thrown away, then ``next``;
- ``skip in the sampler``: ``loader.sampler.skip(done * batch * processes)``
  (:class:`~mae_mm.datasets.ResumableSampler`), ``iter(loader)``, ``next``; the data set's
  pipeline is wrapped in :class:`~mae_mm.datasets.PerSampleSeededPipeline`, as
  :class:`~mae_mm.engine.DataPositionHook` wraps it in a run (its per-sample seeding is in the time).

**Measured**, for each fraction ``f`` of the epoch (``done = round(f * len(loader))`` batches
trained) and each way: the wall time (``time.perf_counter``) from just before the epoch's
iterator is made (and, for the skip, ``skip`` is called) to the moment the first batch to train,
batch ``done``, is in the main process; non-persistent workers, so the time includes starting
them, as at every epoch of a run. Also the images the pipeline loaded by that moment, counted
over all workers in a shared counter incremented after each sample's pipeline returns: with
``num_workers=0`` that is exactly ``(done + 1) * batch`` for draw and drop and ``batch`` for the
skip; with workers it also holds what they prepared ahead (up to ``prefetch_factor`` = 2 batches
per worker), so it can exceed those by a few batches and vary between repeats. Each figure is
the median over ``--repeats`` (the range beside it); the ways and fractions take turns within a
repeat, so a change of machine load hits all of them alike. The first trained batch's image paths
are compared between the two ways: they must be the same images (augmented differently).

**The data**: ``--images`` random-noise 128 x 128 JPEGs (quality 90; numpy seeded per file, so
the same bytes every time) in one flat folder, made once (files already there are kept). **The
loader**: the demo pretraining config's ``train_dataloader`` (DecodeRandomResizedCrop to 64 px,
RandomFlip, PackInputs; ``drop_last``) built by mmengine's ``Runner.build_dataloader`` (seed 0),
its data set replaced by ``mmpretrain.CustomDataset`` over that folder and its sampler by
``mae_mm.ResumableSampler`` (shuffled), one process.
"""
import argparse
import copy
import datetime
import multiprocessing
import os
import os.path as osp
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from mae_mm.benchmark import cpu_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the repository (configs/)
DEMO_PRETRAIN = osp.join(ROOT, 'configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py')
FRACTIONS = (0.1, 0.5, 0.9)
DRAW, SKIP = 'draw and drop', 'skip in the sampler'
MODES = (DRAW, SKIP)
SEED = 0  # the data set's bytes, the sampler's order, the workers' and the per-sample seeds
IMAGE_SIZE = 128


def default_folder(images: int) -> str:
    """Where ``images`` noise JPEGs are made by default (one folder per count)."""
    return osp.join(tempfile.gettempdir(), f'mae_mm_bench_resume_{images}')


def make_noise_jpegs(folder: str, count: int, size: int = IMAGE_SIZE, quality: int = 90) -> int:
    """``count`` random-noise ``size`` x ``size`` JPEGs ``noise_00000.jpg``, ... in ``folder``; image
    ``i`` is drawn from ``numpy.random.default_rng([SEED, i])``, so a file is the same whichever
    are already there (those are kept). Returns how many were written.

    Raises:
        ValueError: ``folder`` holds other files (the data set would read every image in it).
    """
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    names = [f'noise_{i:05d}.jpg' for i in range(count)]
    others = sorted(set(os.listdir(folder)) - set(names))
    if others:
        raise ValueError(f'{folder} holds {len(others)} files besides the {count} noise JPEGs (e.g. {others[0]}); '
                         'give --data an empty folder or one made with the same --images')
    made = 0
    for i, name in enumerate(names):
        path = osp.join(folder, name)
        if not osp.exists(path):
            pixels = np.random.default_rng([SEED, i]).integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(path + '.tmp', format='JPEG', quality=quality)
            os.replace(path + '.tmp', path)  # never a half-written file under the final name
            made += 1
    return made


class CountingPipeline:
    """A data set's pipeline that adds 1 to a shared counter after each sample (every worker's)."""

    def __init__(self, pipeline, counter):
        self.pipeline = pipeline
        self.counter = counter  # a multiprocessing.Value: the workers' increments reach the main process

    def __call__(self, data_info: dict):
        result = self.pipeline(data_info)
        with self.counter.get_lock():
            self.counter.value += 1
        return result


def build_loader(config: str, data: str, batch: int, workers: int, per_sample: bool, counter):
    """``config``'s ``train_dataloader`` over the JPEGs in ``data`` (see the module docstring), its
    pipeline counted by ``counter`` and, with ``per_sample``, seeded per sample (epoch 0)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mae_mm.datasets.per_sample_seed import PerSampleSeededPipeline
    cfg = Config.fromfile(config)
    loader_cfg = copy.deepcopy(cfg.train_dataloader.to_dict())
    loader_cfg.update(
        batch_size=batch, num_workers=workers, persistent_workers=False,
        sampler=dict(type='mae_mm.ResumableSampler', shuffle=True),
        dataset=dict(type='mmpretrain.CustomDataset', data_root=data, with_label=False,
                     pipeline=loader_cfg['dataset']['pipeline']))
    loader = Runner.build_dataloader(loader_cfg, seed=SEED)
    dataset = loader.dataset
    counted = CountingPipeline(dataset.pipeline, counter)
    dataset.pipeline = PerSampleSeededPipeline(counted, SEED) if per_sample else counted
    return loader


def first_trained_batch(loader, done: int, mode: str, counter) -> Tuple[float, int, Tuple[str, ...]]:
    """Makes the epoch's iterator and gets batch ``done`` the ``mode`` way. Returns the seconds it
    took, the images the pipeline had loaded by then, and the batch's image paths."""
    from mmengine.dist import get_world_size
    with counter.get_lock():
        counter.value = 0
    start = time.perf_counter()
    if mode == SKIP:
        loader.sampler.skip(done * loader.batch_size * get_world_size())
    batches = iter(loader)
    for _ in range(done if mode == DRAW else 0):
        next(batches)
    batch = next(batches)
    seconds = time.perf_counter() - start
    loaded = counter.value
    del batches  # its workers stop here, outside the time
    return seconds, loaded, tuple(sample.img_path for sample in batch['data_samples'])


@dataclass(frozen=True)
class ResumeFigures:
    """One (fraction, way) cell: the batches skipped and, per repeat, seconds and images loaded."""
    fraction: float
    done: int  # batches of the epoch already trained: the first one to train is batch ``done``
    mode: str
    seconds: Tuple[float, ...]
    loaded: Tuple[int, ...]
    first_batch: Tuple[str, ...]  # the image paths of the first trained batch (first repeat)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)


def time_resume(data: str, config: str = DEMO_PRETRAIN, fractions: Sequence[float] = FRACTIONS, batch: int = 32,
                workers: int = 2, repeats: int = 3) -> Tuple[int, List[ResumeFigures]]:
    """Times reaching the first batch to train when resuming at each fraction of an epoch, both
    ways (the module docstring says what is measured) over the JPEGs in ``data``.

    Returns:
        ``len(loader)`` (batches per epoch) and one :class:`ResumeFigures` per fraction and way,
        fractions in the given order, each with :data:`MODES` in order.

    Raises:
        ValueError: a fraction outside [0, 1) or one that leaves no batch to train.
    """
    from mmengine.registry import init_default_scope

    from mae_mm.runtime import setup_runtime
    setup_runtime()
    init_default_scope('mae_mm')
    counter = multiprocessing.Value('q', 0)
    loaders = {mode: build_loader(config, data, batch, workers, mode == SKIP, counter) for mode in MODES}
    length = len(loaders[DRAW])
    dones = [round(f * length) for f in fractions]
    bad = [f for f, done in zip(fractions, dones) if not 0 <= f < 1 or not 0 <= done < length]
    if bad or not fractions:
        raise ValueError(f'fractions must lie in [0, 1) and leave a batch of the {length} to train; '
                         f'got {list(fractions)}')
    runs = {(f, mode): [] for f in fractions for mode in MODES}
    for _ in range(repeats):  # the cells take turns
        for f, done in zip(fractions, dones):
            for mode in MODES:
                runs[f, mode].append(first_trained_batch(loaders[mode], done, mode, counter))
    figures = [ResumeFigures(f, done, mode, tuple(r[0] for r in runs[f, mode]), tuple(r[1] for r in runs[f, mode]),
                             runs[f, mode][0][2])
               for f, done in zip(fractions, dones) for mode in MODES]
    return length, figures


def header_lines(argv: Sequence[str], data: str, made: int, images: int) -> List[str]:
    import mmengine
    import torch
    cpu = cpu_model()
    return [f'command: python tools/benchmark_resume.py {shlex.join(argv)}'.rstrip(),
            f'date: {datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")}',
            f'machine: {cpu}, {len(os.sched_getaffinity(0))} cores usable ({os.cpu_count()} online), '
            f'CUDA available: {torch.cuda.is_available()}',
            f'versions: python {platform.python_version()}, torch {torch.__version__}, mmengine {mmengine.__version__}',
            f'data: {images} noise JPEGs of {IMAGE_SIZE} x {IMAGE_SIZE} in {data} ({made} made now, '
            f'{images - made} already there)']


def _spread(values: Sequence[float], fmt: str) -> str:
    low, high = min(values), max(values)
    return fmt.format(low) if low == high else f'{fmt.format(low)}-{fmt.format(high)}'


def table_lines(length: int, batch: int, workers: int, repeats: int, figures: Sequence[ResumeFigures]) -> List[str]:
    """The markdown table of :func:`time_resume`'s figures."""
    lines = [f'epoch: {length} batches of {batch}, {workers} workers (non-persistent), one process; '
             f'median of {repeats} (range)', '',
             '| fraction | batches skipped | mode | images loaded | s to the first trained batch |',
             '|---|---|---|---|---|']
    for fig in figures:
        lines.append(f'| {fig.fraction:g} | {fig.done} of {length} | {fig.mode} | {_spread(fig.loaded, "{:d}")} | '
                     f'{fig.median_seconds:.3f} ({_spread(fig.seconds, "{:.3f}")}) |')
    return lines


def main(argv=None):
    """The command line of tools/benchmark_resume.py."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=3000, help='noise JPEGs in the data set')
    parser.add_argument('--data', help='where they are made, once (default: a folder per count under '
                        f'{tempfile.gettempdir()})')
    parser.add_argument('--workers', type=int, default=2, help='DataLoader workers')
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--fractions', type=float, nargs='+', default=list(FRACTIONS),
                        help='where in the epoch the run resumes')
    parser.add_argument('--config', default=DEMO_PRETRAIN, help='the pretraining config whose train_dataloader '
                        'is built')
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    data = args.data or default_folder(args.images)
    made = make_noise_jpegs(data, args.images)
    for line in header_lines(argv, data, made, args.images):
        print(line)
    length, figures = time_resume(data, args.config, args.fractions, args.batch, args.workers, args.repeats)
    print()
    for line in table_lines(length, args.batch, args.workers, args.repeats, figures):
        print(line)
    same = all(a.first_batch == b.first_batch for a, b in zip(figures[::2], figures[1::2]))
    print(f'\nthe first trained batch holds the same images both ways at every fraction: {"yes" if same else "NO"}')
    if not same:
        sys.exit(1)
