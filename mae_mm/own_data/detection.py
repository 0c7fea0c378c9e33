"""Detection and instance segmentation (Mask R-CNN) on a user's COCO-format set:
``DIR/annotations/{train,val}.json`` and the images they name under ``DIR/{train,val}/``.

The classes are the annotation files' ``categories`` in id order (mmdet maps category ids to
labels by name); train and val must list the same. The box and mask heads follow their number;
mmdet's CocoMetric reports an AP per category (``classwise``).
"""
import json
import os.path as osp
from typing import Dict, List, Tuple

from .config_edit import EVAL_LOADERS, TRAIN_LOADERS, evaluators, length_in_epochs, loader_datasets, type_name
from .errors import OwnDataError
from .scan import require_folder

LAYOUTS = ('detection reads COCO-format DIR/annotations/train.json and DIR/annotations/val.json, '
           'their images under DIR/train/ and DIR/val/ (file_name relative to those)')
SPLITS = ('train', 'val')


def read_categories(root: str, split: str) -> Tuple[List[str], int]:
    """The category names of ``root/annotations/<split>.json`` in id order and its number of
    images; refused when the file is missing or malformed, or a list is missing or empty."""
    path = osp.join(root, 'annotations', f'{split}.json')
    if not osp.isfile(path):
        raise OwnDataError(f'--data-root {root}: {path} does not exist; {LAYOUTS}')
    require_folder(osp.join(root, split), f'--data-root {root}: the image folder', LAYOUTS)
    try:
        with open(path) as f:
            coco: Dict = json.load(f)
    except (OSError, ValueError) as err:
        raise OwnDataError(f'--data-root {root}: {path} is not readable JSON ({err}); {LAYOUTS}') from None
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(key), list) or (key != 'annotations' and not coco[key]):
            raise OwnDataError(f'--data-root {root}: {path} has no {key!r} list{"" if key == "annotations" else " (or an empty one)"}; '
                               f'{LAYOUTS}')
    try:
        categories = sorted((int(c['id']), str(c['name'])) for c in coco['categories'])
    except (KeyError, TypeError, ValueError):
        raise OwnDataError(f'--data-root {root}: {path}: every entry of "categories" needs an integer "id" and a '
                           f'"name"') from None
    names = [name for _, name in categories]
    if len(set(names)) != len(names):
        raise OwnDataError(f'--data-root {root}: {path}: category names repeat ({names}): mmdet maps them by name')
    return names, len(coco['images'])


def apply_detection(cfg, root: str, options: dict, mode: str) -> str:
    """Points ``cfg``'s COCO datasets and metrics at ``root`` and sizes the heads; returns the line to log."""
    (train, images), (val, _) = read_categories(root, 'train'), read_categories(root, 'val')
    if train != val:
        raise OwnDataError(f'--data-root {root}: annotations/train.json and annotations/val.json list different '
                           f'categories (train: {train}; val: {val})')
    classes = tuple(train)
    for loaders, split in ((TRAIN_LOADERS, 'train'), (EVAL_LOADERS, 'val')):
        for _, dataset in loader_datasets(cfg, loaders):
            dataset.update(data_root=root, ann_file=f'annotations/{split}.json', data_prefix=dict(img=f'{split}/'),
                           metainfo=dict(classes=classes))
    for metric in evaluators(cfg):
        if type_name(metric) == 'CocoMetric':
            metric.update(ann_file=osp.join(root, 'annotations', 'val.json'), classwise=True)
    roi_head = cfg.model.roi_head
    for key in ('bbox_head', 'mask_head'):
        heads = roi_head.get(key)
        for head in heads if isinstance(heads, (list, tuple)) else [heads]:
            if isinstance(head, dict):
                head['num_classes'] = len(classes)
    line = f'own data: {root}: COCO format, {len(classes)} categories ({", ".join(classes)}): box and mask heads sized to them'
    if options.get('epochs') is not None:
        line += '; ' + length_in_epochs(cfg, images, options['epochs'])
    return line
