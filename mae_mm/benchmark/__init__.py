"""The benchmarks as a library: each function measures one thing and returns its figures as data.

``tools/benchmark*.py`` parse their arguments, call these and print the figures;
``tools/gpu_check.py`` (:mod:`mae_mm.benchmark.gpu_check`) reads the same figures as numbers.

- :mod:`.step`: a config's whole train step, ours and the reference toolbox's: img/s, peak memory;
- :mod:`.references`: mmpretrain's and mmseg's counterparts of our configs, and their optimizers;
- :mod:`.batches`: synthetic batches of every task, and a config's task and input size;
- :mod:`.data`: generated ImageNet-sized JPEGs, data-loading rates per worker;
- :mod:`.levers`: each speed lever of the MAE step off and on;
- :mod:`.build`: building the detection backbone against a plain ViT (time, memory);
- :mod:`.signal_save`: the save a signal triggers (time, size);
- :mod:`.resume_cost`: resuming inside an epoch, skipping in the sampler against drawing and dropping;
- :mod:`.imports`: what ``import mae_mm`` and ``tools/train.py --help`` cost.

Nothing here is registered or imported by ``import mae_mm``.
"""
import os.path as osp

# the repository this package sits in: its configs/ and tools/
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, for a benchmark's header; 'unknown CPU' elsewhere."""
    try:
        with open('/proc/cpuinfo') as f:
            return next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        return 'unknown CPU'
