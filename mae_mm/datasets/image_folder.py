"""Every image under a folder, for training on a user's own images.

mmpretrain's ``CustomDataset`` finds the files (recursively, by extension in any case) and, with
``with_label=True``, labels them by their class folder; this class adds the extensions
:class:`LoadCheckedImage` reads beyond its defaults (tiff, webp), leaves out hidden files and
folders (``.thumbnails/``, macOS's ``._name.jpg`` companions, which are not images), and keeps
one share of the files by a hash of their path (:mod:`mae_mm.own_data.split`): ``split='train'``
the files not held out, ``'val'`` the held-out ones, ``'all'`` every one.

This module imports mmpretrain: a config that builds :class:`ImageFolder` lists it in
``custom_imports`` (``tools/train.py --data-root`` adds it).
"""
import os.path as osp
from typing import List

from mmengine.fileio import list_dir_or_file
from mmpretrain.datasets import CustomDataset
from mmpretrain.datasets.custom import get_samples

from mae_mm.own_data.scan import IMAGE_EXTENSIONS
from mae_mm.own_data.split import check_val_fraction, split_paths
from mae_mm.registry import DATASETS


def hidden(rel_path: str) -> bool:
    """Whether any part of ``rel_path`` starts with a dot."""
    return any(part.startswith('.') for part in rel_path.replace('\\', '/').split('/'))


@DATASETS.register_module()
class ImageFolder(CustomDataset):
    """The images under ``data_root/data_prefix`` (any depth).

    Args:
        data_root: the folder.
        split: 'train', 'val' (the held-out share) or 'all'.
        val_fraction: the share held out, in [0, 1); 0 holds out nothing ('val' is then empty).
        with_label: label each image by its class folder (``data_prefix/<class>/...``; the classes
            in sorted order, or ``classes``); else unlabelled, class folders read as plain folders.
        data_prefix: the subfolder read ('' for ``data_root`` itself).
        extensions: the image extensions, matched in any case.
        **kwargs: ``CustomDataset``'s (classes, pipeline, serialize_data, ...).

    Each sample is ``{'img_path': <data_root>/<data_prefix>/<relative path>}``, with ``gt_label``
    when labelled.
    """

    def __init__(self, data_root: str, split: str = 'all', val_fraction: float = 0.0, with_label: bool = False,
                 data_prefix: str = '', extensions=IMAGE_EXTENSIONS, **kwargs):
        self.split = split
        self.val_fraction = check_val_fraction(val_fraction)
        super().__init__(data_root=data_root, data_prefix=data_prefix, with_label=with_label, extensions=extensions,
                         **kwargs)

    def is_valid_file(self, filename: str) -> bool:
        """An image by its extension, and not hidden (``filename`` relative to the folder read)."""
        return super().is_valid_file(filename) and not hidden(filename)

    def _find_samples(self):
        """CustomDataset's, with hidden class folders (``.ipynb_checkpoints``) left out."""
        if not self.with_label:
            return super()._find_samples()
        folders = sorted(d for d in list_dir_or_file(self.img_prefix, list_dir=True, list_file=False)
                         if not d.startswith('.'))
        if self.CLASSES is not None and tuple(self.CLASSES) != tuple(folders):
            raise ValueError(f'{self.img_prefix}: the class folders {folders} are not the classes given '
                             f'{list(self.CLASSES)}')
        self.folder_to_idx = {folder: i for i, folder in enumerate(folders)}
        samples, _ = get_samples(self.img_prefix, self.folder_to_idx, is_valid_file=self.is_valid_file)
        if self.CLASSES is None:
            self._metainfo['classes'] = tuple(folders)
        if not samples:
            raise RuntimeError(f'no image in the class folders of {self.img_prefix}')
        return samples

    def load_data_list(self) -> List[dict]:
        samples = super().load_data_list()
        rel = [osp.relpath(s['img_path'], self.img_prefix) for s in samples]
        keep = set(split_paths(rel, self.split, self.val_fraction))
        return [s for s, p in zip(samples, rel) if p in keep]
