"""Stops a run on CUDA whose config needs mmcv's compiled ops when the installed mmcv has no CUDA
kernels for them, before the Runner is built.

Without this the run builds the model, loads data and then fails deep in mmcv at the first
RoIAlign or NMS on a CUDA tensor (mmcv built with ``FORCE_CUDA=0``, the wheel ``tools/install.sh``
makes on a machine without a GPU, has only CPU kernels).
"""
from typing import Iterator, List, Optional, Tuple

import torch

# Config ``type`` names that build mmcv ops with compiled kernels (RoI extractors' ``roi_layer``,
# ``nms`` in train/test cfgs, deformable convolutions and attention). A name not listed is not
# checked: the check only ever stops a run that would certainly fail.
MMCV_OP_TYPES = frozenset({
    'RoIAlign', 'RoIPool', 'RoIAlignRotated', 'SimpleRoIAlign', 'PrRoIPool', 'DeformRoIPoolPack',
    'ModulatedDeformRoIPoolPack', 'nms', 'soft_nms', 'nms_rotated', 'DCN', 'DCNv2',
    'DeformConv2d', 'DeformConv2dPack', 'ModulatedDeformConv2d', 'ModulatedDeformConv2dPack',
    'MultiScaleDeformableAttention', 'CARAFE', 'CARAFEPack', 'MaskedConv2d', 'CrissCrossAttention',
    'PSAMask', 'SAC',
})

INSTALL_FIX = 'bash tools/install.sh --cuda'


def mmcv_ops_needed(model_cfg, key: str = 'model') -> Iterator[Tuple[str, str]]:
    """(config key, type) of every mmcv op the model config builds, depth first.

    A scoped type (``'mmcv.RoIAlign'``) counts by its last part.
    """
    if isinstance(model_cfg, dict):
        kind = model_cfg.get('type')
        if isinstance(kind, str) and kind.rsplit('.', 1)[-1] in MMCV_OP_TYPES:
            yield f'{key}.type', kind
        for name, value in model_cfg.items():
            yield from mmcv_ops_needed(value, f'{key}.{name}')
    elif isinstance(model_cfg, (list, tuple)):
        for i, value in enumerate(model_cfg):
            yield from mmcv_ops_needed(value, f'{key}[{i}]')


def mmcv_cuda_ops_problem() -> Optional[str]:
    """Why the installed mmcv cannot run its ops on CUDA tensors, or None when it can.

    ``mmcv.ops.get_compiling_cuda_version()`` answers 'not available' for a build without CUDA
    (``MMCV_WITH_CUDA`` undefined); ``mmcv.ops`` does not import at all without compiled ops (mmcv-lite).
    """
    try:
        import mmcv
    except ImportError as err:
        return f'mmcv is not installed ({err})'
    where = f'mmcv {mmcv.__version__} ({mmcv.__file__})'
    try:
        from mmcv.ops import get_compiling_cuda_version
    except ImportError as err:
        return f'{where} has no compiled ops at all (import mmcv.ops: {err})'
    cuda = get_compiling_cuda_version()
    if cuda == 'not available':
        return f"{where} was built without CUDA ops (mmcv.ops.get_compiling_cuda_version() == 'not available')"
    return None


def check_cuda_ops(cfg) -> None:
    """Raises ``RuntimeError`` when ``cfg`` will run on CUDA, builds mmcv ops and mmcv has no CUDA ops.

    The message names the config keys that need the ops, the mmcv that lacks them and the install
    command that builds them. Nothing is checked on a machine where torch sees no GPU.
    """
    if not torch.cuda.is_available():
        return
    needed: List[Tuple[str, str]] = list(mmcv_ops_needed(cfg.get('model')))
    if not needed:
        return
    problem = mmcv_cuda_ops_problem()
    if problem is None:
        return
    source = f' ({cfg.filename})' if getattr(cfg, 'filename', None) else ''
    keys = '\n'.join(f'  {key} = {kind!r}' for key, kind in needed)
    raise RuntimeError(
        f'this run is on CUDA (torch sees {torch.cuda.device_count()} GPU(s)) and its config{source} '
        f'builds mmcv ops:\n{keys}\nbut {problem}: the first of them on a CUDA tensor would fail.\n'
        f'Fix: `{INSTALL_FIX}` (builds mmcv with FORCE_CUDA=1 for the visible GPUs and installs it into '
        f'the venv it prints; in your own environment rebuild mmcv from source with MMCV_WITH_OPS=1 '
        f'FORCE_CUDA=1), or run on CPU with CUDA_VISIBLE_DEVICES= .')
