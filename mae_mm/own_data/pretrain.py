"""Pretraining on a folder of images in any layout (flat, nested, class folders: labels ignored).

The training set is every image under the folder (:class:`mae_mm.datasets.ImageFolder`), less a
held-out share when ``own_data.val_fraction`` > 0: that share is then the validation and test
set of the masked reconstruction metric. With none held out there is no validation while
training, and ``tools/test.py`` measures the loss on the training images.
"""
import copy

from .config_edit import TRAIN_LOADERS, add_custom_import, loader_datasets, replace, require_one_batch
from .errors import OwnDataError
from .scan import scan_images
from .split import check_val_fraction, split_paths

LAYOUTS = ('pretraining reads every image under DIR, at any depth: DIR/*.jpg, DIR/any/sub/folders/*.png, '
           'or DIR/<class>/*.jpg (labels ignored)')
LABELLED_HOOKS = ('KNNProbeHook',)  # they need class folders: an own folder has none to rely on


def apply_pretrain(cfg, root: str, options: dict, mode: str) -> str:
    """Points ``cfg``'s datasets at the images under ``root``; returns the line to log.

    Raises:
        OwnDataError: ``root`` holds no image; ``val_fraction`` holds out none (or all) of them;
            fewer training images than one batch of every process with ``drop_last``.
    """
    try:
        val_fraction = check_val_fraction(options.get('val_fraction', 0.0), 'own_data.val_fraction')
    except ValueError as err:
        raise OwnDataError(str(err)) from None
    scan = scan_images(root, '--data-root', LAYOUTS)
    held_out = len(split_paths(scan.images, 'val', val_fraction))
    train = len(scan.images) - held_out
    if val_fraction and not held_out:
        raise OwnDataError(f'--data-root {root}: own_data.val_fraction={val_fraction:g} of {len(scan.images)} images '
                           'holds out none of them: raise it, or set 0 for no held-out images')
    if not train:
        raise OwnDataError(f'--data-root {root}: own_data.val_fraction={val_fraction:g} holds out all '
                           f'{len(scan.images)} images: lower it')
    require_one_batch(cfg, train, root, mode)
    folder = dict(type='mae_mm.ImageFolder', data_root=root, val_fraction=val_fraction)
    for _, dataset in loader_datasets(cfg, TRAIN_LOADERS):
        replace(dataset, dict(folder, split='train' if held_out else 'all', pipeline=dataset.get('pipeline')))
    test_pipeline = cfg.test_dataloader.dataset.get('pipeline')
    replace(cfg.test_dataloader.dataset, dict(folder, split='val' if held_out else 'all', pipeline=test_pipeline))
    if held_out:
        if not isinstance(cfg.get('val_dataloader'), dict):
            cfg.val_dataloader = copy.deepcopy(cfg.test_dataloader)
            cfg.val_evaluator = copy.deepcopy(cfg.test_evaluator)
        replace(cfg.val_dataloader.dataset, dict(folder, split='val', pipeline=test_pipeline))
        cfg.val_cfg = cfg.get('val_cfg') or dict()
    else:
        cfg.val_dataloader, cfg.val_evaluator, cfg.val_cfg = None, None, None
    dropped = [h['type'] for h in cfg.get('custom_hooks') or [] if str(h.get('type', '')).endswith(LABELLED_HOOKS)]
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks') or [] if h['type'] not in dropped]
    add_custom_import(cfg, 'mae_mm.datasets.image_folder')
    kinds = ', '.join(f'{k[1:]} {n}' for k, n in scan.image_kinds.most_common())
    line = (f'own data: {root}: {len(scan.images)} images ({kinds}): {train} to train on, '
            + (f'{held_out} held out (val_fraction={val_fraction:g}) for the reconstruction metric'
               if held_out else 'none held out (own_data.val_fraction=0: tools/test.py measures the training images)'))
    if scan.skipped():
        line += f'; {scan.skipped()}'
    if dropped:
        line += f'; {", ".join(dropped)} left out (it needs labelled class folders)'
    return line
