"""MAE (He et al., CVPR 2022) for the OpenMMLab toolboxes."""
from .version import __version__

# Registers this package's classes and lets torch >= 2.6 read mmengine's own checkpoints.
from . import engine, evaluation, models  # noqa: E402,F401
from .engine import allow_mmengine_checkpoints  # noqa: E402

allow_mmengine_checkpoints()

__all__ = ['__version__']
