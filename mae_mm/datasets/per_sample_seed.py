"""Augmentation randomness per sample: each sample's draws come from (seed, epoch, index).

A DataLoader worker normally augments from its own running streams (python ``random``, numpy's
global generator, torch's CPU generator), seeded once per worker: which crop box and flip a
sample gets then depends on how many workers there are, which worker it lands on and what that
worker augmented before it. A run resumed by skipping samples, or with another number of
workers or processes, would augment differently from the run that never stopped.

:class:`PerSampleSeededPipeline` takes the place of a data set's ``pipeline``: around each
sample's transforms it seeds the three generators from :func:`sample_seed` ``(seed, epoch,
index)``, so every random draw of the pipeline (the crop box decided before decoding, the flip,
RandAugment, whatever a pipeline adds) is a function of the sample and the epoch alone. In the main
process (``num_workers=0``) it puts the caller's states back afterwards, since the model's masking
noise draws from the same generators; a DataLoader worker's streams serve nothing else, so there
it only seeds (on the 2-core development machine, busy: 330 us per sample with the save and
restore, 43 us seeding alone). CUDA generators are not touched. A sample that a pipeline refuses
(``LoadCheckedImage(on_error='skip')``) is replaced by mmengine's data set with an index drawn from
numpy's generator: in a worker, seeded by the refused sample; with ``num_workers=0``, the main stream.
"""
import random
from contextlib import contextmanager

import numpy as np
import torch
from torch.utils.data import get_worker_info


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A 32-bit seed for sample ``index`` in ``epoch`` of a run seeded ``seed`` (numpy's
    ``SeedSequence`` over the three numbers: distinct inputs give independent seeds)."""
    return int(np.random.SeedSequence([int(seed) % 2**63, int(epoch), int(index)]).generate_state(1)[0])


def seed_generators(seed: int) -> None:
    """Seeds Python's ``random``, numpy's global generator and torch's CPU generator with ``seed``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)


@contextmanager
def seeded_generators(seed: int):
    """The three generators seeded with ``seed`` inside the block, and as they were before it
    afterwards."""
    saved = random.getstate(), np.random.get_state(), torch.default_generator.get_state()
    seed_generators(seed)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.default_generator.set_state(saved[2])


class PerSampleSeededPipeline:
    """A data set's pipeline whose random draws for each sample are seeded by (seed, epoch, index).

    Args:
        pipeline (callable): the data set's pipeline (mmengine's ``Compose``), called with the
            sample's ``data_info``; its ``sample_idx`` (set by mmengine's ``BaseDataset``) is the index.
        seed (int): the run's seed.

    Attributes:
        epoch (int): the epoch being trained; the training loop's hook sets it before the epoch's
            workers start (they copy the data set when they start).
    """

    def __init__(self, pipeline, seed: int):
        self.pipeline = pipeline
        self.seed = int(seed)
        self.epoch = 0

    def __call__(self, data_info: dict):
        if 'sample_idx' not in data_info:
            raise KeyError('PerSampleSeededPipeline needs data_info["sample_idx"] (set by mmengine\'s BaseDataset); '
                           f'got the keys {sorted(data_info)}')
        seed = sample_seed(self.seed, self.epoch, data_info['sample_idx'])
        if get_worker_info() is not None:  # a DataLoader worker: its streams serve nothing else, no need to keep them
            seed_generators(seed)
            return self.pipeline(data_info)
        with seeded_generators(seed):  # the main process (num_workers=0): the model draws from the same generators
            return self.pipeline(data_info)

    def __getattr__(self, name):  # the wrapped pipeline's attributes (``transforms``), for code that inspects them
        if name == 'pipeline':  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.pipeline, name)

    def __repr__(self) -> str:
        return f'PerSampleSeededPipeline(seed={self.seed}, epoch={self.epoch}, pipeline={self.pipeline!r})'
