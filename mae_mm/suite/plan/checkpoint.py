"""What a suite run is given: the checkpoint's identity (path, size, mtime, sha256) and its kind.

Kinds: ``mae_mm`` (one of our pretraining checkpoints, read as is: ``encoder.*`` weights, with or
without ``decoder.*``), ``official`` (the MAE release's encoder or visualize checkpoint, weights
under ``model``) and ``mmpretrain`` (an mmpretrain ``MAE``); the last two are converted with
``tools/convert_checkpoint.py`` into the run directory. Anything else (a classifier, a truncated
file, random bytes) is refused with what was found.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional

from ..errors import NotAPretrainingCheckpoint

HASH_CACHE = osp.join(osp.expanduser('~'), '.cache', 'mae_mm', 'checkpoint_sha256.json')


def file_identity(path: str) -> Dict:
    """``{'path': absolute path, 'size', 'mtime_ns'}``: what tells a file changed without reading it."""
    stat = os.stat(path)
    return dict(path=osp.abspath(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns)


def file_sha256(path: str) -> str:
    """The hex sha256 of the file's bytes, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 22), b''):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: str, cache_file: str = HASH_CACHE) -> str:
    """:func:`file_sha256`, read from ``cache_file`` when the file's path, size and mtime are the
    ones cached (a multi-GB checkpoint is hashed once, not on every command)."""
    identity = file_identity(path)
    key = f'{identity["path"]}|{identity["size"]}|{identity["mtime_ns"]}'
    try:
        with open(cache_file) as f:
            cache = json.load(f)
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return cache[key]
    cache = {k: v for k, v in cache.items() if not k.startswith(identity['path'] + '|')}
    cache[key] = file_sha256(path)
    os.makedirs(osp.dirname(cache_file), exist_ok=True)
    tmp = f'{cache_file}.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(cache, f)
    os.replace(tmp, cache_file)
    return cache[key]


def checkpoint_record(path: str, previous: Optional[Dict]) -> Dict:
    """Path, size, mtime and sha256 of the checkpoint; the whole record of the previous manifest
    when it names the same file (same path, size and mtime)."""
    identity = file_identity(path)
    if previous and all(previous['checkpoint'].get(k) == v for k, v in identity.items()):
        return dict(previous['checkpoint'])
    return dict(identity, sha256=sha256_of(path))


def _weights(ckpt) -> Dict:
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model'):
            if isinstance(ckpt.get(key), dict):
                return ckpt[key]
        return ckpt
    return {}


def kind_from_keys(keys) -> str:
    """``mae_mm``, ``official`` or ``mmpretrain`` from a state dict's keys; raises for anything else."""
    keys = set(keys)
    if any(k.startswith('head.') for k in keys):
        raise NotAPretrainingCheckpoint(
            'it holds a classifier head (head.*): a fine-tuned model, not a pretraining checkpoint')
    if 'encoder.pos_embed' in keys and any(k.startswith('encoder.blocks.') for k in keys):
        return 'mae_mm'
    if 'patch_embed.proj.weight' in keys and any(k.startswith('blocks.') for k in keys):
        return 'official'
    if 'backbone.patch_embed.projection.weight' in keys and any(k.startswith('backbone.layers.') for k in keys):
        return 'mmpretrain'
    shown = sorted(keys)[:8]
    raise NotAPretrainingCheckpoint(f'its keys are not those of an MAE ViT (ours, official or mmpretrain): '
                                    f'{shown}{" ..." if len(keys) > 8 else ""}')


def checkpoint_kind(path: str) -> str:
    """Reads ``path`` (torch's weights_only load; imports torch and mae_mm) and names its kind."""
    if not osp.isfile(path):
        raise NotAPretrainingCheckpoint(f'{path} does not exist')
    from mae_mm.checkpoint.file_io import CheckpointReadError, read_checkpoint
    from mae_mm.runtime import setup_runtime
    setup_runtime()  # the weights_only allowlist for mmengine's own checkpoints
    try:
        ckpt = read_checkpoint(path)
    except CheckpointReadError as err:
        raise NotAPretrainingCheckpoint(f'{path} cannot be read as a checkpoint: {err}') from err
    try:
        return kind_from_keys(_weights(ckpt))
    except NotAPretrainingCheckpoint as err:
        raise NotAPretrainingCheckpoint(f'{path}: {err}') from err
