"""The one entry point for the process-wide adjustments a mae_mm run needs.

``import mae_mm`` loads nothing but the version (the package's top level is lazy); importing a
subpackage registers its classes and changes nothing in torch, mmengine or the toolboxes. A
process that trains, evaluates or loads our checkpoints calls :func:`setup_runtime` once,
before it builds anything, and that call makes exactly these changes:

- torch's ``weights_only`` allowlist gains the few types mmengine pickles into its checkpoints,
  and ``HistoryBuffer`` pickles without ``getattr`` (:mod:`mae_mm.checkpoint.weights_only`),
  so torch >= 2.6 loads mmengine's own checkpoints (``load_from``, ``--resume``);
- under transformers >= 5, mmpretrain's multimodal models are switched off before
  ``mmpretrain.models`` is imported (:mod:`mae_mm.compat`), so mmpretrain, and mmdet and mmseg
  with it, stay importable; this must run before the Runner builds the model.

Importing this module calls :func:`setup_runtime`: every config of this project lists
``'mae_mm.runtime'`` in ``custom_imports`` (``configs/_base_/reliability.py``), which mmengine
imports inside ``Config.fromfile``, before anything is built. ``tools/*.py`` and the test
suite's conftest call :func:`setup_runtime` explicitly as well. A user who only imports
``mae_mm`` (to build a model in a notebook, say) gets none of it.
"""
from . import registry  # noqa: F401  (scope ``mae_mm`` exists before any config is built)
from .compat import disable_mmpretrain_multimodal
from .checkpoint.weights_only import allow_mmengine_checkpoints

_done = False


def setup_runtime() -> None:
    """Makes the adjustments listed in the module docstring; calling it again does nothing."""
    global _done
    if _done:
        return
    disable_mmpretrain_multimodal()
    allow_mmengine_checkpoints()
    _done = True


setup_runtime()
