"""iNaturalist 2017, 2018 and 2019 read from their published json annotations.

The competitions' layout (github.com/visipedia/inat_comp, each year's README): one COCO-style json
per split, its ``file_name`` relative to the folder the image archive unpacks in:

- 2017: ``train2017.json``, ``val2017.json``; ``train_val_images/<supercategory>/<category>/<id>.jpg``;
  5,089 classes, 579,184 train and 95,986 val images.
- 2018: ``train2018.json``, ``val2018.json``; ``train_val2018/<supercategory>/<category>/<id>.jpg``;
  8,142 classes, 437,513 train and 24,426 val images.
- 2019: ``train2019.json``, ``val2019.json``; ``train_val2019/<supercategory>/<category>/<id>.jpg``;
  1,010 classes, 265,213 train and 3,030 val images (268,243 together).

Each json holds ``images`` ([{id, file_name, ...}]), ``annotations`` ([{image_id, category_id, ...}],
one per image) and ``categories`` ([{id, name, ...}]).

- Label: the category id, as published (0 .. N-1 in all three years). A file whose ids are not
  exactly 0 .. N-1 has its ids mapped in sorted order to 0 .. N-1 (logged once); a model's outputs
  then follow that order.
- Class names: the categories' ``name``, in label order. The 2018 and 2019 jsons carry obfuscated
  names; each README links the real ones (``categories.json``) to put in place of the ``categories``
  list.
- Refused, naming the file and the key: a missing file, a missing ``images`` / ``annotations`` /
  ``categories`` list, an annotation whose image id or category id no entry has, an image with no
  annotation or with two.

This module imports mmpretrain: a config that builds :class:`INaturalist` lists it in
``custom_imports`` (``configs/_base_/datasets/inat*.py``).
"""
import json
from typing import List

from mmengine import fileio
from mmengine.logging import print_log
from mmpretrain.datasets import BaseDataset

from mae_mm.registry import DATASETS


def read_json(path: str) -> dict:
    """The json at ``path``; a clear error when it is missing."""
    if not fileio.exists(path):
        raise FileNotFoundError(f'{path}: no such annotation file (the iNaturalist json of this split)')
    return json.loads(fileio.get_text(path))


def label_map(path: str, categories: List[dict]) -> dict:
    """``{category id: label}``: the ids themselves when they are 0 .. N-1, else their sorted order."""
    ids = sorted(c['id'] for c in categories)
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: 'categories' repeats an id")
    if ids != list(range(len(ids))):
        print_log(f'{path}: category ids are not 0..{len(ids) - 1} (from {ids[0]} to {ids[-1]}); '
                  f'labels are their sorted order', logger='current')
    return {cid: label for label, cid in enumerate(ids)}


@DATASETS.register_module()
class INaturalist(BaseDataset):
    """One split of iNaturalist 2017, 2018 or 2019, from its json (see the module docstring).

    Args:
        ann_file (str): The split's json, relative to ``data_root`` (``'train2017.json'``).
        data_root (str): The folder holding the json and the unpacked image folder.
        **kwargs: :class:`mmpretrain.datasets.BaseDataset`'s (``pipeline``, ``test_mode``, ...);
            ``classes`` / ``metainfo`` class names must be as many as the json's categories.
    """

    def __init__(self, ann_file: str, data_root: str = '', **kwargs):
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        path = self.ann_file
        ann = read_json(path)
        for key in ('images', 'annotations', 'categories'):
            if key not in ann:
                raise KeyError(f"{path}: no '{key}' list (an iNaturalist json has images, annotations, categories)")
        label_of_category = label_map(path, ann['categories'])
        names = tuple(c['name'] for c in sorted(ann['categories'], key=lambda c: c['id']))
        given = self._metainfo.get('classes')
        if given is not None and len(given) != len(names):
            raise ValueError(f"{path}: {len(given)} class names given for the file's {len(names)} categories")
        self._metainfo.setdefault('classes', names)

        file_of = {image['id']: image['file_name'] for image in ann['images']}
        label_of_image = {}
        for i, a in enumerate(ann['annotations']):
            where = f"{path}: annotations[{i}] (id {a.get('id')})"
            if a['image_id'] not in file_of:
                raise ValueError(f"{where} has image_id {a['image_id']}, which no entry of 'images' has")
            if a['category_id'] not in label_of_category:
                raise ValueError(f"{where} has category_id {a['category_id']}, which no entry of 'categories' has")
            if a['image_id'] in label_of_image:
                raise ValueError(f"{where}: image_id {a['image_id']} has a second annotation")
            label_of_image[a['image_id']] = label_of_category[a['category_id']]
        unlabelled = [image for image in ann['images'] if image['id'] not in label_of_image]
        if unlabelled:
            first = unlabelled[0]
            raise ValueError(f"{path}: {len(unlabelled)} of the 'images' have no entry in 'annotations', the first "
                             f"id {first['id']} ({first['file_name']})")

        backend = fileio.get_file_backend(self.img_prefix, enable_singleton=True)
        return [dict(img_path=backend.join_path(self.img_prefix, image['file_name']),
                     gt_label=label_of_image[image['id']]) for image in ann['images']]
