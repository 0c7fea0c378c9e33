"""Fine-tuning and linear probing on a user's labelled images: ``DIR/train/<class>/`` and
``DIR/val/<class>/`` (images at any depth under each class folder).

The classes are the class folders, in sorted order; train and val must name the same ones. The
head's, the mixup/cutmix's (``data_preprocessor.num_classes``) and the metric's numbers follow
them: top-1, and top-5 only with at least 5 classes.
"""
import os
import os.path as osp
from typing import List, Tuple

from .config_edit import (EVAL_LOADERS, TRAIN_LOADERS, add_custom_import, evaluators, loader_datasets, replace,
                          require_one_batch, type_name)
from .errors import OwnDataError
from .scan import FIRST_NAMES, FolderScan, require_folder, scan_folder

LAYOUTS = 'classification reads DIR/train/<class>/*.jpg and DIR/val/<class>/*.jpg (the same class folders in both)'


def _names(names) -> str:
    names = sorted(names)
    return ', '.join(names[:FIRST_NAMES]) + (f' and {len(names) - FIRST_NAMES} more' if len(names) > FIRST_NAMES else '')


def class_folders(root: str, split: str) -> Tuple[List[str], FolderScan]:
    """The class folders of ``root/split`` (sorted), each holding at least one image, and what
    they hold (paths relative to ``root/split``)."""
    folder = osp.join(root, split)
    require_folder(folder, f'--data-root {root}: the {split} folder', LAYOUTS)
    classes = sorted(d for d in os.listdir(folder) if osp.isdir(osp.join(folder, d)) and not d.startswith('.'))
    if not classes:
        loose = scan_folder(folder)
        raise OwnDataError(f'--data-root {root}: {folder} has no class folder ({loose.found()}); {LAYOUTS}')
    found = scan_folder(folder)
    empty = [c for c in classes if not any(p.startswith(c + os.sep) for p in found.images)]
    if empty:
        raise OwnDataError(f'--data-root {root}: class folder(s) without an image in {folder}: {_names(empty)}; '
                           f'{LAYOUTS}')
    return classes, found


def apply_classification(cfg, root: str, options: dict, mode: str) -> str:
    """Points ``cfg``'s classification datasets at ``root``'s class folders and sizes the head,
    mixup/cutmix and metrics to them; returns the line to log."""
    (train, train_scan), (val, val_scan) = class_folders(root, 'train'), class_folders(root, 'val')
    if train != val:
        only_train, only_val = sorted(set(train) - set(val)), sorted(set(val) - set(train))
        parts = ([f'only in train: {_names(only_train)}'] if only_train else []) + \
                ([f'only in val: {_names(only_val)}'] if only_val else [])
        raise OwnDataError(f'--data-root {root}: train and val name different classes ({"; ".join(parts)}); '
                           f'{LAYOUTS}')
    classes = tuple(train)
    if len(classes) < 2:
        raise OwnDataError(f'--data-root {root}: one class ({classes[0]}): a classifier needs at least 2; {LAYOUTS}')
    images = sum(p.count(os.sep) > 0 for p in train_scan.images)  # in a class folder
    require_one_batch(cfg, images, root, mode)
    for loaders, split in ((TRAIN_LOADERS, 'train'), (EVAL_LOADERS, 'val')):
        for _, dataset in loader_datasets(cfg, loaders):
            replace(dataset, dict(type='mae_mm.ImageFolder', data_root=root, data_prefix=split, with_label=True,
                                  classes=classes, pipeline=dataset.get('pipeline')))
    model = cfg.model
    model.head.num_classes = len(classes)
    if isinstance(model.get('data_preprocessor'), dict) and 'num_classes' in model.data_preprocessor:
        model.data_preprocessor.num_classes = len(classes)
    topk = (1, 5) if len(classes) >= 5 else (1,)
    for metric in evaluators(cfg):
        if type_name(metric) == 'Accuracy':
            metric['topk'] = topk
    add_custom_import(cfg, 'mae_mm.datasets.image_folder')
    line = (f'own data: {root}: {len(classes)} classes ({_names(classes)}), {images} training images: head, '
            f'mixup/cutmix and metrics sized to them, top-{"/".join(map(str, topk))}')
    skipped = [f'{split}: {scan.skipped()}' for split, scan in (('train', train_scan), ('val', val_scan))
               if scan.skipped()]
    loose = [p for scan in (train_scan, val_scan) for p in scan.images if os.sep not in p]
    if skipped:
        line += '; ' + ', '.join(skipped)
    if loose:
        line += f'; {len(loose)} image(s) outside the class folders left out ({", ".join(loose[:FIRST_NAMES])})'
    return line
