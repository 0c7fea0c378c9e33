"""Your own data: any config of a task family reads a user's folder in that family's layout.

``tools/train.py CONFIG --data-root DIR`` (and ``tools/test.py``), or in a config::

    own_data = dict()          # options below; its presence makes ``data_root`` the user's folder
    data_root = '/path/to/DIR'

The task comes from the model (``own_data.task`` may name it): a MaskedAutoencoder pretrains on
every image under DIR (:mod:`.pretrain`), an ImageClassifier fine-tunes or probes on class folders
(:mod:`.classification`), a Mask R-CNN on a COCO-format set (:mod:`.detection`), an
EncoderDecoder on label maps (:mod:`.segmentation`). Each rewrites the config's datasets, heads
and metrics before anything is built, and refuses a folder that does not fit with
:class:`OwnDataError` (one line: the folder, what it holds, the layout expected).

Options (``own_data=dict(...)``): ``task``; ``val_fraction`` (pretraining: the share of images
held out for the reconstruction metric, by a hash of each path; default 0); ``classes``
(segmentation: the class names, else DIR/classes.txt); ``epochs`` (detection, segmentation: the
run's ``max_iters`` is that many passes over the training images, :func:`.config_edit.length_in_epochs`).
"""
import logging
import os.path as osp
from typing import Optional

from mmengine.logging import print_log

from .classification import apply_classification
from .detection import apply_detection
from .errors import OwnDataError
from .pretrain import apply_pretrain
from .segmentation import apply_segmentation

TASKS = dict(pretrain=apply_pretrain, classification=apply_classification, detection=apply_detection,
             segmentation=apply_segmentation)
OPTIONS = dict(task=None, val_fraction='pretrain', classes='segmentation', epochs=('detection', 'segmentation'))
# option -> the task(s) it belongs to (None: every task)
MODEL_TASKS = dict(MaskedAutoencoder='pretrain', ImageClassifier='classification', EncoderDecoder='segmentation')

__all__ = ['OwnDataError', 'apply_own_data', 'model_task']


def model_task(cfg) -> Optional[str]:
    """The own-data task of ``cfg``'s model: by its type, a detector by its ``roi_head``; else None."""
    model = cfg.get('model') or {}
    name = str(model.get('type', '')).rsplit('.', 1)[-1]
    if name in MODEL_TASKS:
        return MODEL_TASKS[name]
    return 'detection' if isinstance(model.get('roi_head'), dict) else None


def apply_own_data(cfg, data_root: Optional[str], mode: str = 'train') -> bool:
    """Points ``cfg`` at the user's folder when ``data_root`` (``--data-root``) is given or the
    config has an ``own_data`` block (then its top-level ``data_root``); returns whether it did.

    Raises:
        OwnDataError: no folder given to an own-data config, an unknown option or task, a model
            no own-data task fits, or a folder that does not fit the task's layout.
    """
    options = cfg.get('own_data')
    if data_root is None and options is None:
        return False
    source = cfg.filename or 'the config'
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise OwnDataError(f'{source}: own_data has unknown keys {unknown}; it takes {sorted(OPTIONS)}')
    inferred = model_task(cfg)
    task = options.get('task') or inferred
    if task not in TASKS:
        raise OwnDataError(f'{source}: no own-data layout for model type {cfg.model.get("type")!r}'
                           + (f' (own_data.task={task!r})' if options.get('task') else '')
                           + f'; own-data tasks: {sorted(TASKS)}')
    misplaced = [k for k, t in OPTIONS.items() if t is not None and task not in (t if isinstance(t, tuple) else (t,))
                 and k in options]
    if misplaced:
        raise OwnDataError(f'{source}: own_data.{misplaced[0]} is an option of {OPTIONS[misplaced[0]]}, not of {task}')
    root = data_root if data_root is not None else cfg.get('data_root')
    if not root:
        raise OwnDataError(f'{source} reads your own data ({task}): give --data-root DIR, or data_root = "DIR" in a '
                           'config that inherits it')
    root = osp.abspath(osp.expanduser(str(root)))
    cfg.data_root = root
    cfg.own_data = dict(options, task=task)
    line = TASKS[task](cfg, root, options, mode)
    print_log(line, logger='current', level=logging.INFO)
    return True
