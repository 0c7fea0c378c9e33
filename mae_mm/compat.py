"""Keeps the OpenMMLab toolboxes importable next to transformers >= 5.

mmpretrain 1.2 decides whether to import its multimodal models (BLIP, CLIP, ...) with
``WITH_MULTIMODAL = transformers>=4.28 installed``; under transformers 5 those modules subclass
names that no longer exist and ``import mmpretrain.models`` fails, and ``mmdet.models`` and
``mmseg.models`` with it (they import mmpretrain when it is installed). MAE needs none of the
multimodal models, so when transformers >= 5 is installed we load mmpretrain's dependency module
first with that flag off; mmpretrain then registers its placeholders for those models, which
raise a clear error if one is ever built.

Nothing here runs on import: :func:`mae_mm.runtime.setup_runtime` calls
:func:`disable_mmpretrain_multimodal` for a run, before the Runner builds the model.
"""
import importlib.util
import os.path as osp
import sys

from mmengine.utils import digit_version


def _installed_version(package: str):
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - python < 3.8
        return None
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def transformers_breaks_mmpretrain() -> bool:
    """True when the installed transformers is one that mmpretrain 1.2's multimodal code cannot import."""
    found = _installed_version('transformers')
    return found is not None and digit_version(found) >= digit_version('5.0.0')


def disable_mmpretrain_multimodal() -> bool:
    """Sets mmpretrain's ``WITH_MULTIMODAL`` to False before ``mmpretrain.models`` reads it.

    ``mmpretrain.utils.dependency`` is loaded here with the flag off, or, when something (e.g.
    ``import mmpretrain``) loaded it already, its flag is switched off in place.
    Returns True when it did either; False when it was not needed, when mmpretrain is absent, or
    when mmpretrain's models were already imported (then it is too late and the import error,
    if any, has already been raised).
    """
    name = 'mmpretrain.utils.dependency'
    if not transformers_breaks_mmpretrain() or 'mmpretrain.models' in sys.modules:
        return False
    if name in sys.modules:
        sys.modules[name].WITH_MULTIMODAL = False
        return True
    spec = importlib.util.find_spec('mmpretrain')
    if spec is None or not spec.submodule_search_locations:
        return False
    path = osp.join(list(spec.submodule_search_locations)[0], 'utils', 'dependency.py')
    if not osp.exists(path):
        return False
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    module.WITH_MULTIMODAL = False
    sys.modules[name] = module
    return True
