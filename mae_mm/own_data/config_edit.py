"""Small edits of a built config that the own-data tasks share: the datasets a loader reads, the
evaluators, the custom imports."""
import importlib
import os
from typing import Iterator, List, Tuple

from .errors import OwnDataError

TRAIN_LOADERS = ('train_dataloader',)
EVAL_LOADERS = ('val_dataloader', 'test_dataloader')


def leaf_datasets(dataset_cfg, key: str) -> Iterator[Tuple[str, dict]]:
    """(config key, dataset dict) of the datasets under ``dataset_cfg`` that read files (the ones
    with a ``pipeline``), descending into wrappers (``dataset=`` / ``datasets=[...]``)."""
    if not isinstance(dataset_cfg, dict):
        return
    if isinstance(dataset_cfg.get('dataset'), dict):
        yield from leaf_datasets(dataset_cfg['dataset'], f'{key}.dataset')
    elif dataset_cfg.get('datasets'):
        for i, child in enumerate(dataset_cfg['datasets']):
            yield from leaf_datasets(child, f'{key}.datasets[{i}]')
    else:
        yield key, dataset_cfg


def loader_datasets(cfg, loaders) -> List[Tuple[str, dict]]:
    """:func:`leaf_datasets` of each of ``loaders`` the config has (a loader set to None is skipped)."""
    found = []
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if isinstance(loader_cfg, dict):
            found += list(leaf_datasets(loader_cfg.get('dataset'), f'{loader}.dataset'))
    return found


def replace(dataset_cfg: dict, new: dict) -> None:
    """Makes ``dataset_cfg`` (in place: a loader or wrapper holds it) exactly ``new``."""
    dataset_cfg.clear()
    dataset_cfg.update(new)


def evaluators(cfg) -> List[dict]:
    """The metric dicts of ``val_evaluator`` and ``test_evaluator`` (a dict or a list of them)."""
    found = []
    for key in ('val_evaluator', 'test_evaluator'):
        value = cfg.get(key)
        found += [m for m in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(m, dict)]
    return found


def type_name(component: dict) -> str:
    """A component's type without its scope: ``'Accuracy'`` for ``'mmpretrain.Accuracy'``."""
    return str(component.get('type', '')).rsplit('.', 1)[-1]


def add_custom_import(cfg, module: str) -> None:
    """Imports ``module`` (registering its classes: a parsed config's imports are done) and adds it
    to ``cfg.custom_imports.imports`` (made when missing), so the work dir's copy of the config
    imports it too."""
    importlib.import_module(module)
    imports = cfg.setdefault('custom_imports', dict(imports=[], allow_failed_imports=False))
    names = list(imports.get('imports') or [])
    if module not in names:
        imports['imports'] = names + [module]


def world_size() -> int:
    """The processes of the run being launched (torchrun's WORLD_SIZE, srun's SLURM_NTASKS, mpirun's
    OMPI_COMM_WORLD_SIZE), else 1."""
    return int(os.environ.get('WORLD_SIZE') or os.environ.get('SLURM_NTASKS')
               or os.environ.get('OMPI_COMM_WORLD_SIZE') or 1)


def require_one_batch(cfg, images: int, root: str, mode: str) -> None:
    """Refuses (``OwnDataError``) training on fewer ``images`` than one batch of every process when
    the loader drops the last partial batch: the run would train on nothing."""
    loader = cfg.train_dataloader
    batch = loader.get('batch_size', 1) * world_size()
    if mode == 'train' and loader.get('drop_last', False) and images < batch:
        raise OwnDataError(f'--data-root {root}: {images} training images, fewer than one batch of {batch} '
                           f'(train_dataloader.batch_size={loader.get("batch_size")} x {world_size()} process(es), '
                           'drop_last=True): lower it with --cfg-options train_dataloader.batch_size=N')


def length_in_epochs(cfg, images: int, epochs) -> str:
    """Sets an iteration-based run's ``train_cfg.max_iters`` to ``epochs`` passes over ``images``
    at the run's total batch (processes x ``train_dataloader.batch_size``), rounded up, and caps
    the validation and checkpoint intervals at it; returns the words for the log.

    The recipes' iteration counts belong to their data set (COCO's 118k images, ADE20K's 20k); on
    a user's set the number of passes is what carries over."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, float)) or epochs <= 0:
        raise OwnDataError(f'own_data.epochs must be a positive number, got {epochs!r}')
    batch = cfg.train_dataloader.batch_size * world_size()
    max_iters = max(1, -(-int(round(epochs * images)) // batch))
    cfg.train_cfg.max_iters = max_iters
    if cfg.train_cfg.get('val_interval', 0) > max_iters:
        cfg.train_cfg.val_interval = max_iters
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(checkpoint, dict) and checkpoint.get('interval', 0) > max_iters:
        checkpoint['interval'] = max_iters
    return (f'{epochs:g} epochs of {images} images at batch {batch}: train_cfg.max_iters={max_iters} '
            '(the schedule follows it)')
