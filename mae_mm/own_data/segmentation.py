"""Semantic segmentation (UperNet) on a user's label maps: ``DIR/images/{train,val}/`` and
``DIR/annotations/{train,val}/`` (a ``.png`` label map per image, the same file stem), and a
class list given once: ``DIR/classes.txt`` (a name per line) or ``own_data.classes``.

A label map's value ``k`` is class ``k`` (0 is a class, not "other": no ``reduce_zero_label``);
255 is ignored, as in mmseg. ``mae_mm.CheckSegLabels`` stops the run on any other value >= the
number of classes, naming the file. The heads follow the number of classes.
"""
import os.path as osp
from typing import List, Tuple

from .config_edit import EVAL_LOADERS, TRAIN_LOADERS, length_in_epochs, loader_datasets, replace, type_name
from .errors import OwnDataError
from .scan import FIRST_NAMES, scan_images

LAYOUTS = ('segmentation reads DIR/images/{train,val}/<name>.<jpg|png|...> and DIR/annotations/{train,val}/<name>.png '
           '(label maps: 0..N-1, 255 ignored) and the N class names in DIR/classes.txt (one per line) or own_data.classes')
SPLITS = ('train', 'val')


def read_classes(root: str, options: dict) -> Tuple[str, ...]:
    """``own_data.classes``, else ``root/classes.txt``'s non-empty lines."""
    given = options.get('classes')
    if given is not None:
        if isinstance(given, str) or not all(isinstance(c, str) for c in given) or len(given) < 2:
            raise OwnDataError(f'own_data.classes must list at least 2 class names, got {given!r}')
        return tuple(given)
    path = osp.join(root, 'classes.txt')
    if not osp.isfile(path):
        raise OwnDataError(f'--data-root {root}: no class list: {path} does not exist and own_data.classes is not '
                           f'set; {LAYOUTS}')
    with open(path) as f:
        classes = tuple(line.strip() for line in f if line.strip())
    if len(classes) < 2:
        raise OwnDataError(f'--data-root {root}: {path} names {len(classes)} class(es); it needs at least 2, one per line')
    return classes


def image_suffix(root: str, split: str) -> Tuple[str, int]:
    """The one file suffix of ``root/images/<split>``'s images and their count; every image must
    have its label map."""
    images = scan_images(osp.join(root, 'images', split), f'--data-root {root}: the image folder', LAYOUTS)
    labels_dir = osp.join(root, 'annotations', split)
    labels = scan_images(labels_dir, f'--data-root {root}: the label map folder', LAYOUTS)
    suffixes = sorted({osp.splitext(p)[1] for p in images.images})
    if len(suffixes) > 1:
        raise OwnDataError(f'--data-root {root}: images/{split} mixes file suffixes {suffixes}: mmseg reads one '
                           '(convert them to one format)')
    stems = {osp.splitext(p)[0] for p in labels.images if p.endswith('.png')}
    unlabelled = [p for p in images.images if osp.splitext(p)[0] not in stems]
    if unlabelled:
        raise OwnDataError(f'--data-root {root}: {len(unlabelled)} of {len(images.images)} images in images/{split} '
                           f'have no label map annotations/{split}/<name>.png ({", ".join(unlabelled[:FIRST_NAMES])}'
                           f'{", ..." if len(unlabelled) > FIRST_NAMES else ""})')
    return suffixes[0], len(images.images)


def _set_pipeline(pipeline: List[dict], num_classes: int) -> None:
    for step in pipeline or []:
        if type_name(step) == 'LoadAnnotations' and 'reduce_zero_label' in step:
            step['reduce_zero_label'] = False
        if type_name(step) == 'CheckSegLabels':
            step['num_classes'] = num_classes


def apply_segmentation(cfg, root: str, options: dict, mode: str) -> str:
    """Points ``cfg``'s segmentation datasets at ``root`` and sizes the heads; returns the line to log."""
    classes = read_classes(root, options)
    counts = {}
    for loaders, split in ((TRAIN_LOADERS, 'train'), (EVAL_LOADERS, 'val')):
        suffix, counts[split] = image_suffix(root, split)
        for _, dataset in loader_datasets(cfg, loaders):
            pipeline = dataset.get('pipeline')
            _set_pipeline(pipeline, len(classes))
            replace(dataset, dict(type='mmseg.BaseSegDataset', data_root=root, metainfo=dict(classes=classes),
                                  data_prefix=dict(img_path=f'images/{split}', seg_map_path=f'annotations/{split}'),
                                  img_suffix=suffix, seg_map_suffix='.png', reduce_zero_label=False,
                                  pipeline=pipeline))
    for key in ('decode_head', 'auxiliary_head'):
        heads = cfg.model.get(key)
        for head in heads if isinstance(heads, (list, tuple)) else [heads]:
            if isinstance(head, dict):
                head['num_classes'] = len(classes)
    line = (f'own data: {root}: {len(classes)} classes ({", ".join(classes)}), {counts["train"]} train and '
            f'{counts["val"]} val images with label maps: heads sized to them, 255 ignored')
    if options.get('epochs') is not None:
        line += '; ' + length_in_epochs(cfg, counts['train'], options['epochs'])
    return line
