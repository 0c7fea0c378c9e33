"""The files of a Hugging Face model: a ``save_pretrained`` directory or one weight file.

A directory holds ``config.json`` and ``model.safetensors`` or ``pytorch_model.bin``, either
possibly sharded with a ``*.index.json`` that maps each tensor to its shard.
"""
import json
import os
import os.path as osp
from typing import Optional, Tuple

from .file_io import CheckpointReadError, is_safetensors, read_safetensors, read_torch, write_checkpoint
from .convert import StateDict

WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin',
                'pytorch_model.bin.index.json')


def _read_weight_file(path: str) -> StateDict:
    if is_safetensors(path):
        return read_safetensors(path)[0]
    state = read_torch(path)
    if not isinstance(state, dict) or not all(hasattr(v, 'shape') for v in state.values()):
        raise CheckpointReadError(f'{path} does not hold a flat dict of tensors, as transformers writes')
    return state


def _read_sharded(index_path: str) -> StateDict:
    with open(index_path) as f:
        weight_map = json.load(f).get('weight_map')
    if not isinstance(weight_map, dict):
        raise CheckpointReadError(f'{index_path} has no "weight_map"')
    state = {}
    for shard in sorted(set(weight_map.values())):
        state.update(_read_weight_file(osp.join(osp.dirname(index_path), shard)))
    return state


def read_hf(path: str) -> Tuple[StateDict, Optional[dict], Optional[str]]:
    """Reads a transformers model's weights and, when present, its ``config.json``.

    Args:
        path: A ``save_pretrained`` directory, or one ``*.safetensors`` / ``*.bin`` file (a
            ``config.json`` beside it is read too).

    Returns:
        The state dict, the parsed config (or None) and the config's path (or None).

    Raises:
        CheckpointReadError: naming the path when it holds no weights or a file is damaged.
    """
    if osp.isdir(path):
        found = [name for name in WEIGHT_FILES if osp.isfile(osp.join(path, name))]
        if not found:
            raise CheckpointReadError(f'{path} holds none of {", ".join(WEIGHT_FILES)}')
        weights = osp.join(path, found[0])
        state = _read_sharded(weights) if weights.endswith('.index.json') else _read_weight_file(weights)
        config_path = osp.join(path, 'config.json')
    else:
        state = _read_weight_file(path)
        config_path = osp.join(osp.dirname(osp.abspath(path)), 'config.json')
    if not osp.isfile(config_path):
        return state, None, None
    try:
        with open(config_path) as f:
            return state, json.load(f), config_path
    except json.JSONDecodeError as err:
        raise CheckpointReadError(f'{config_path} is not valid JSON ({err})') from err


def write_hf(directory: str, state: StateDict, config: dict) -> None:
    """Writes ``config.json`` and ``model.safetensors`` as ``save_pretrained`` lays them out."""
    os.makedirs(directory, exist_ok=True)
    with open(osp.join(directory, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2, sort_keys=True)
    write_checkpoint(osp.join(directory, 'model.safetensors'), state)
