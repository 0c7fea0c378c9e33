"""MAE (He et al., CVPR 2022) for the OpenMMLab toolboxes.

Importing the package registers its classes in its own registries (scope ``mae_mm``) and
changes nothing else: no other library's behaviour, no toolbox import. The process-wide
adjustments a run needs live in :mod:`mae_mm.runtime` (configs import it through
``custom_imports``; the tools call ``setup_runtime()``). The task-specific parts that pull in a
toolbox or an extra library are imported by the configs that use them: ``mae_mm.models.det``
(COCO), ``mae_mm.models.seg`` (ADE20K, imports mmseg), ``mae_mm.datasets.gpu_decode`` and
``mae_mm.models.mae.jpeg_decode_preprocessor`` (GPU JPEG decoding, imports mmpretrain).
"""
from .version import __version__
from . import datasets, engine, evaluation, models  # noqa: F401  (registration only)

__all__ = ['__version__']
