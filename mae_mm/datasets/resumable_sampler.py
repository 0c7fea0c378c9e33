"""A training sampler that starts an epoch at any sample without loading the ones before it.

mmengine's ``DefaultSampler`` lays an epoch out as one global order (a permutation of the data
set seeded by ``seed + epoch``, padded by repetition to a multiple of the number of processes)
and hands process ``r`` of ``W`` the positions ``r, r + W, r + 2W, ...``. With ``drop_last`` and
``B`` samples per process, step ``s`` of the epoch therefore trains the positions
``[s * W * B, (s + 1) * W * B)`` of that order, one contiguous block whatever ``W`` and ``B``
are; only the padding at the end depends on ``W``. A position in the epoch is then one number,
the samples consumed so far counted over all processes.

:class:`ResumableSampler` is that sampler (the same indices, in the same order, when nothing
is skipped) plus :meth:`skip`: its next pass over the epoch starts at a global position, by
leaving indices out, so a resumed run reads, decodes and augments nothing it already trained.
"""
from mmengine.dataset import DefaultSampler

from mae_mm.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ResumableSampler(DefaultSampler):
    """``DefaultSampler`` whose next epoch can start at a global sample position.

    Arguments are those of ``DefaultSampler`` (``dataset``, ``shuffle``, ``seed``, ``round_up``).
    ``len()`` stays the whole epoch's per-process length, so the loop's iteration arithmetic and
    the schedules are those of the run that never stopped.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start = 0

    def skip(self, samples: int) -> None:
        """Start the next pass (``iter()``) at global position ``samples`` of the epoch; the pass
        after it starts at 0 again.

        Raises:
            ValueError: ``samples`` is negative, beyond the epoch, or not a multiple of the
                number of processes (every process must skip as many of its own positions).
        """
        if not 0 <= samples <= self.total_size or samples % self.world_size:
            raise ValueError(f'cannot start the epoch at sample {samples}: it must lie in [0, {self.total_size}] '
                             f'and be a multiple of the {self.world_size} processes')
        self._start = samples

    def __iter__(self):
        start, self._start = self._start, 0
        indices = list(super().__iter__())  # this process's positions rank, rank + W, ...
        return iter(indices[start // self.world_size:])
