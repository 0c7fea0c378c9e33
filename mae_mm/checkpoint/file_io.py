"""Reads and writes weight files as ``.safetensors`` or torch pickles, never unpickling code.

``.safetensors`` holds flat tensors and a string-to-string header; a ``meta`` dict travels there
as JSON under the header key ``mae_mm_meta``. Anything else is read with
``torch.load(weights_only=True)``, which refuses pickled objects other than tensors and plain
containers (the official MAE files' ``argparse.Namespace`` is allowed).
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch

META_KEY = 'mae_mm_meta'


class CheckpointReadError(ValueError):
    """A weight file that does not exist, is damaged, or holds something other than weights."""


def is_safetensors(path: str) -> bool:
    return path.endswith('.safetensors')


def _safetensors():
    try:
        import safetensors.torch
    except ImportError as err:  # a dependency of transformers; optional for .pth users
        raise CheckpointReadError('reading or writing .safetensors needs the safetensors package '
                                  '(pip install safetensors)') from err
    return safetensors


def read_safetensors(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """Returns a ``.safetensors`` file's tensors and its header metadata (``{}`` if none).

    Raises:
        CheckpointReadError: naming ``path`` when it is missing, truncated or not safetensors.
    """
    if not osp.isfile(path):
        raise CheckpointReadError(f'{path} does not exist')
    safetensors = _safetensors()
    try:
        with safetensors.safe_open(path, framework='pt') as f:
            metadata = dict(f.metadata() or {})
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as err:  # noqa: BLE001 (SafetensorError, OSError, ...: all mean the same here)
        raise CheckpointReadError(f'{path} is not a readable .safetensors file (truncated or damaged?): '
                                  f'{str(err).splitlines()[0][:300]}') from err
    return tensors, metadata


def read_torch(path: str, trust: bool = False):
    """``torch.load`` on CPU with ``weights_only=True`` unless ``trust``; allowed besides tensors:
    ``argparse.Namespace`` (the official MAE files) and what mmengine's training checkpoints
    pickle (their message hub, numpy values: :mod:`.weights_only`), so a run's own
    ``epoch_N.pth`` converts as it is."""
    from .weights_only import mmengine_checkpoint_globals

    if not osp.isfile(path):
        raise CheckpointReadError(f'{path} does not exist')
    try:
        with torch.serialization.safe_globals([argparse.Namespace, *mmengine_checkpoint_globals()]):
            return torch.load(path, map_location='cpu', weights_only=not trust)
    except Exception as err:  # noqa: BLE001 (torch raises several types here)
        last = (str(err).strip().splitlines() or [type(err).__name__])[-1][:300]
        raise CheckpointReadError(f'cannot load {path} with weights_only=True ({last}).\n'
                                  'If you trust this file, rerun with --trust-source.') from err


def read_checkpoint(path: str, trust: bool = False) -> dict:
    """A checkpoint as a dict: ``{'state_dict': tensors, 'meta': dict}`` for ``.safetensors``
    (meta from its header), whatever the pickle holds otherwise."""
    if is_safetensors(path):
        tensors, header = read_safetensors(path)
        meta = json.loads(header[META_KEY]) if META_KEY in header else {}
        return dict(state_dict=tensors, meta=meta)
    return read_torch(path, trust)


def write_checkpoint(path: str, state: Dict[str, torch.Tensor], meta: Optional[dict] = None,
                     bare: bool = False) -> None:
    """Writes ``state`` by ``path``'s extension.

    Args:
        path: ``*.safetensors`` (tensors, ``meta`` as JSON in the header) or anything else
            (a torch pickle of ``{'state_dict': state, 'meta': meta}``, or of ``state`` alone
            when ``bare``, as timm reads it).
        state: name -> tensor.
        meta: JSON-serialisable facts about the conversion.
        bare: Write the state dict without the ``state_dict`` / ``meta`` wrapper (torch files).
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if is_safetensors(path):
        header = {'format': 'pt'}
        if meta:
            header[META_KEY] = json.dumps(meta)
        # safetensors refuses tensors that share memory or are not contiguous
        _safetensors().torch.save_file({k: v.detach().contiguous().clone() for k, v in state.items()},
                                       path, metadata=header)
    else:
        torch.save(state if bare else dict(state_dict=state, meta=meta or {}), path)
