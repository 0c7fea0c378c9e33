"""Checks of a config made before the Runner reads any data or builds any model."""
import os.path as osp
from typing import Iterator, Tuple

from mmengine.config import Config


def _dataset_cfgs(dataset_cfg, key: str) -> Iterator[Tuple[str, dict]]:
    """The dataset configs under ``key``, descending into wrappers (dataset= / datasets=[...])."""
    if not isinstance(dataset_cfg, dict):
        return
    yield key, dataset_cfg
    if isinstance(dataset_cfg.get('dataset'), dict):
        yield from _dataset_cfgs(dataset_cfg['dataset'], f'{key}.dataset')
    for i, child in enumerate(dataset_cfg.get('datasets') or []):
        yield from _dataset_cfgs(child, f'{key}.datasets[{i}]')


def _paths_of(dataset_cfg: dict) -> Iterator[Tuple[str, str]]:
    """(config key, filesystem path) of a dataset config's data root, annotation file, prefixes."""
    data_root = dataset_cfg.get('data_root') or ''
    if data_root:
        yield 'data_root', data_root
    ann_file = dataset_cfg.get('ann_file') or ''
    if ann_file:
        yield 'ann_file', ann_file if osp.isabs(ann_file) else osp.join(data_root, ann_file)
    prefix = dataset_cfg.get('data_prefix')
    prefixes = prefix.items() if isinstance(prefix, dict) else [('', prefix)] if isinstance(prefix, str) else []
    for name, value in prefixes:
        if value:
            key = f'data_prefix.{name}' if name else 'data_prefix'
            yield key, value if osp.isabs(value) else osp.join(data_root, value)


def check_data_paths(cfg: Config, loaders=('train_dataloader', 'val_dataloader')) -> None:
    """Raises ``FileNotFoundError`` naming the config, key and path of any dataset path that is missing.

    Only local paths are checked (a URI such as ``s3://`` is left to its backend).
    """
    missing = []
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        for key, dataset_cfg in _dataset_cfgs(loader_cfg.get('dataset'), f'{loader}.dataset'):
            for field, path in _paths_of(dataset_cfg):
                if '://' not in str(path) and not osp.exists(path):
                    missing.append(f'  {key}.{field} -> {path}')
    if missing:
        source = f' in {cfg.filename}' if cfg.filename else ''
        raise FileNotFoundError(f'dataset paths not found{source} (relative paths are read from '
                                f'{osp.abspath(".")}):\n' + '\n'.join(missing) +
                                '\nMake the data (tools/make_demo_data.py for the demo) or override the '
                                'keys with --cfg-options.')
