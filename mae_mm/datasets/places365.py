"""Places365-Standard read from its published file lists.

The published layout (the Places365 development kit, github.com/zhoubolei/places_devkit; the
archives at data.csail.mit.edu/places/places365/; torchvision's ``Places365`` reads the same files):

- ``filelist_places365-standard.tar`` unpacks to ``categories_places365.txt`` (``/a/airfield 0``: a
  category and its id, 0 .. 364), ``places365_train_standard.txt`` (``/a/airfield/00000001.jpg 0``:
  an image path under the training folder, with a leading ``/``, and its label) and
  ``places365_val.txt`` (``Places365_val_00000001.jpg 165``);
- the training images, 1,803,460: ``train_large_places365standard.tar`` unpacks to
  ``data_large/<letter>/<category>/<n>.jpg`` (short side 512, aspect kept),
  ``train_256_places365standard.tar`` to ``data_256/...`` (squashed to 256 x 256); torchvision renames
  these folders ``data_large_standard`` / ``data_256_standard``;
- the validation images, 36,500 (100 a category): ``val_large.tar`` unpacks to ``val_large/``,
  ``val_256.tar`` to ``val_256/``.

A list entry is a path relative to the image folder: its leading ``/`` is dropped (``osp.join``
would otherwise take it as an absolute path and ignore the folder). Class names are the categories
without their letter folder (``/a/apartment_building/outdoor`` -> ``apartment_building/outdoor``).

Refused, naming the file and the line: a missing file, a line that is not ``<path> <label>``, a
label outside the categories, categories whose ids are not 0 .. N-1 in order.

This module imports mmpretrain: a config that builds :class:`Places365` lists it in
``custom_imports`` (``configs/_base_/datasets/places365.py``).
"""
import os.path as osp
from typing import List, Tuple

from mmengine import fileio
from mmpretrain.datasets import BaseDataset

from mae_mm.registry import DATASETS


def read_lines(path: str, what: str) -> List[str]:
    """The lines of ``path`` (blank ones dropped); a clear error when it is missing."""
    if not fileio.exists(path):
        raise FileNotFoundError(f'{path}: no such file (the Places365 {what})')
    return [line for line in fileio.get_text(path).splitlines() if line.strip()]


def split_entry(path: str, number: int, line: str) -> Tuple[str, int]:
    """``('<name>', label)`` from a ``'<name> <label>'`` line of ``path``."""
    parts = line.split()
    if len(parts) != 2 or not parts[1].isdigit():
        raise ValueError(f'{path}, line {number}: {line!r} is not "<path> <label>"')
    return parts[0], int(parts[1])


def read_categories(path: str) -> Tuple[str, ...]:
    """Class names from ``categories_places365.txt``, whose ids must run 0 .. N-1 in order."""
    names = []
    for number, line in enumerate(read_lines(path, 'category list'), 1):
        name, index = split_entry(path, number, line)
        if index != len(names):
            raise ValueError(f'{path}, line {number}: id {index} where {len(names)} comes next')
        names.append(name.lstrip('/').split('/', 1)[-1])  # '/a/airfield' -> 'airfield'
    return tuple(names)


def read_file_list(path: str, num_classes: int) -> List[Tuple[str, int]]:
    """``[(image path relative to the image folder, label)]`` from a Places365 file list."""
    entries = []
    for number, line in enumerate(read_lines(path, 'file list'), 1):
        name, label = split_entry(path, number, line)
        if label >= num_classes:
            raise ValueError(f'{path}, line {number}: label {label} is not one of the {num_classes} categories')
        entries.append((name.lstrip('/'), label))
    return entries


@DATASETS.register_module()
class Places365(BaseDataset):
    """One split of Places365-Standard (see the module docstring).

    Args:
        ann_file (str): The split's file list, relative to ``data_root``
            (``'places365_train_standard.txt'``, ``'places365_val.txt'``).
        data_root (str): The folder holding the lists and the unpacked image folders.
        data_prefix (str | dict): The image folder, relative to ``data_root`` (``'data_large'``,
            ``'val_large'``; ``'data_256'``, ``'val_256'`` for the small images).
        categories_file (str): The category list, relative to ``data_root``; its names become the
            ``classes``.
        **kwargs: :class:`mmpretrain.datasets.BaseDataset`'s (``pipeline``, ``test_mode``, ...).
    """

    def __init__(self, ann_file: str, data_root: str = '', data_prefix='',
                 categories_file: str = 'categories_places365.txt', **kwargs):
        self.categories_file = categories_file if osp.isabs(categories_file) else osp.join(data_root, categories_file)
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        names = read_categories(self.categories_file)
        given = self._metainfo.get('classes')
        if given is not None and len(given) != len(names):
            raise ValueError(f'{self.categories_file}: {len(given)} class names given for its {len(names)} categories')
        self._metainfo.setdefault('classes', names)
        backend = fileio.get_file_backend(self.img_prefix, enable_singleton=True)
        return [dict(img_path=backend.join_path(self.img_prefix, name), gt_label=label)
                for name, label in read_file_list(self.ann_file, len(names))]
