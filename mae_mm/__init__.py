"""MAE (He et al., CVPR 2022) for the OpenMMLab toolboxes.

The top level is lazy: ``import mae_mm`` loads only :mod:`mae_mm.version`, so that the
torch-free parts of the package (the transfer orchestration :mod:`mae_mm.suite`, the exit codes
:mod:`mae_mm.exit_codes`) can be imported by tools that must start fast without torch
(``tools/transfer.py --status``). ``mae_mm.models``, ``mae_mm.engine`` ... load on first
attribute access or explicit import.

Registration is unaffected: every registry in :mod:`mae_mm.registry` names the modules that
register into it (``locations``), and mmengine imports them at the registry's first lookup.
Configs import :mod:`mae_mm.runtime` (``custom_imports``), which imports the registries and
makes the process-wide adjustments a run needs. The task-specific parts that pull in a toolbox
or an extra library are imported by the configs that use them: ``mae_mm.models.det`` (COCO),
``mae_mm.models.seg`` (ADE20K, imports mmseg), ``mae_mm.datasets.gpu_decode`` and
``mae_mm.models.mae.jpeg_decode_preprocessor`` (GPU JPEG decoding, imports mmpretrain).
"""
import importlib

from .version import __version__

__all__ = ['__version__']


def __getattr__(name: str):
    """``mae_mm.models`` and the like, imported on first use (PEP 562)."""
    try:
        return importlib.import_module(f'{__name__}.{name}')
    except ModuleNotFoundError as err:
        if err.name != f'{__name__}.{name}':
            raise
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}') from None
