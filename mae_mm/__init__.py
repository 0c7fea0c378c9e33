"""MAE (He et al., CVPR 2022) for the OpenMMLab toolboxes."""
from .version import __version__
from .compat import disable_mmpretrain_multimodal

# before anything imports mmpretrain.models: keep it importable under transformers >= 5
disable_mmpretrain_multimodal()

# Registers this package's classes and lets torch >= 2.6 read mmengine's own checkpoints.
from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .engine import allow_mmengine_checkpoints  # noqa: E402

allow_mmengine_checkpoints()

__all__ = ['__version__']
