"""An AMP optimizer wrapper that falls back to fp32 where no GPU exists."""
from mmengine.device import is_cuda_available
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mae_mm.registry import OPTIM_WRAPPERS

_AMP_ONLY_ARGS = ('loss_scale', 'dtype', 'use_fsdp')


def AmpIfAvailableOptimWrapper(**kwargs):  # noqa: N802 (a registry name, used like a class)
    """Builds mmengine's :class:`AmpOptimWrapper` on a CUDA machine, else an fp32 :class:`OptimWrapper`.

    mmengine's AMP wrapper refuses to build without a GPU, which would make every config
    with AMP unbuildable (and untestable) on a CPU-only machine. Arguments are those of
    ``AmpOptimWrapper`` (``dtype='bfloat16'``, ``loss_scale``...); on CPU the AMP-only ones
    are dropped and a warning says so.
    """
    if is_cuda_available():
        return AmpOptimWrapper(**kwargs)
    print_log('no CUDA device: mixed precision is off, training runs in float32', 'current', level=30)
    return OptimWrapper(**{k: v for k, v in kwargs.items() if k not in _AMP_ONLY_ARGS})


OPTIM_WRAPPERS.register_module(name='AmpIfAvailableOptimWrapper', module=AmpIfAvailableOptimWrapper)
