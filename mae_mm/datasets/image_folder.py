"""Every image under a folder, unlabelled, for pretraining on a user's own images.

mmpretrain's ``CustomDataset(with_label=False)`` finds the files (recursively, by extension in
any case); this class adds the extensions :class:`LoadCheckedImage` reads beyond its defaults
(tiff, webp), skips hidden files, and keeps one share of the files by a hash of their path
(:mod:`mae_mm.own_data.split`): ``split='train'`` the files not held out, ``'val'`` the held-out
ones, ``'all'`` every one.

This module imports mmpretrain: a config that builds :class:`ImageFolder` lists it in
``custom_imports`` (``tools/train.py --data-root`` adds it).
"""
import os.path as osp
from typing import List

from mmpretrain.datasets import CustomDataset

from mae_mm.own_data.scan import IMAGE_EXTENSIONS
from mae_mm.own_data.split import check_val_fraction, split_paths
from mae_mm.registry import DATASETS


@DATASETS.register_module()
class ImageFolder(CustomDataset):
    """The images under ``data_root`` (any depth; class folders read as plain folders).

    Args:
        data_root: the folder.
        split: 'train', 'val' (the held-out share) or 'all'.
        val_fraction: the share held out, in [0, 1); 0 holds out nothing ('val' is then empty).
        extensions: the image extensions, matched in any case.
        **kwargs: ``CustomDataset``'s (pipeline, serialize_data, ...); ``with_label`` is always False.

    Each sample is ``{'img_path': <data_root>/<relative path>}``.
    """

    def __init__(self, data_root: str, split: str = 'all', val_fraction: float = 0.0,
                 extensions=IMAGE_EXTENSIONS, **kwargs):
        self.split = split
        self.val_fraction = check_val_fraction(val_fraction)
        kwargs.pop('with_label', None)
        super().__init__(data_root=data_root, data_prefix='', with_label=False, extensions=extensions, **kwargs)

    def load_data_list(self) -> List[dict]:
        samples = super().load_data_list()
        rel = [osp.relpath(s['img_path'], self.img_prefix) for s in samples]
        visible = [p for p in rel if not any(part.startswith('.') for part in p.replace('\\', '/').split('/'))]
        keep = set(split_paths(visible, self.split, self.val_fraction))
        return [s for s, p in zip(samples, rel) if p in keep]
