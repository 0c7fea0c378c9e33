"""The held-out share of a folder of images, by a hash of each path.

A file is held out when the first 8 bytes of the SHA-1 of its path relative to the data root
(``/``-separated), read as a fraction of 2**64, is below ``val_fraction``. The choice depends on
nothing but the path: the same on every run, rank and machine, and a file added later does not
move any other between the shares.
"""
import hashlib
from typing import Iterable, List

SPLITS = ('train', 'val', 'all')


def path_fraction(rel_path: str) -> float:
    """A number in [0, 1) fixed by ``rel_path`` (``\\`` read as ``/``)."""
    digest = hashlib.sha1(rel_path.replace('\\', '/').encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big') / 2.0 ** 64


def check_val_fraction(val_fraction, key: str = 'val_fraction') -> float:
    """``val_fraction`` as a float in [0, 1), else ``ValueError`` naming ``key``."""
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0 <= val_fraction < 1:
        raise ValueError(f'{key} must be a number in [0, 1) (the share of images held out), got {val_fraction!r}')
    return float(val_fraction)


def split_paths(rel_paths: Iterable[str], split: str, val_fraction: float) -> List[str]:
    """The paths of ``split``: 'val' the held-out ones, 'train' the rest, 'all' every one."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    if split == 'all':
        return list(rel_paths)
    held_out = split == 'val'
    return [p for p in rel_paths if (path_fraction(p) < val_fraction) == held_out]
