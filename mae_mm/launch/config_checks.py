"""Checks of a config made before the Runner reads any data or builds any model, and the lr rule
that makes auto_scale_lr count gradient accumulation."""
import os.path as osp
from typing import Iterator, Tuple

from mmengine.config import Config
from mmengine.logging import print_log


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


def count_accumulation_in_auto_scale_lr(cfg: Config) -> None:
    """Makes mmengine's ``auto_scale_lr`` count gradient accumulation, as the official code does.

    mmengine's ``Runner.scale_lr`` multiplies the lr by ``world_size x train_dataloader.batch_size /
    auto_scale_lr.base_batch_size``: the images of one iteration. With
    ``optim_wrapper.accumulative_counts = k`` an optimizer step sums k iterations, and the official
    code's rule (lr = blr x batch_size x accum_iter x world_size / 256) counts them; mmengine's
    would leave the lr k times too small. So ``base_batch_size`` is read as images per optimizer
    step and divided by k here, before the Runner is built; mmengine then scales by exactly the
    official ratio. Nothing changes when auto_scale_lr is off or k is 1.

    The value the config gave is kept as ``auto_scale_lr.base_batch_size_per_step`` (and k as
    ``auto_scale_lr.counted_accumulative_counts``), so a config dumped after this call (the work
    dir's copy) gives the same lr when it is run again. ``Runner.scale_lr`` reads only ``enable``
    and ``base_batch_size``. tools/train.py calls this; code that builds a Runner itself should too.

    Raises:
        ValueError: ``optim_wrapper.accumulative_counts`` is not a positive integer.
    """
    scale_cfg = cfg.get('auto_scale_lr')
    if not isinstance(scale_cfg, dict) or not scale_cfg.get('enable', False):
        return
    optim_cfg = cfg.get('optim_wrapper')
    counts = optim_cfg.get('accumulative_counts', 1) if isinstance(optim_cfg, dict) else 1
    if isinstance(counts, bool) or not isinstance(counts, int) or counts < 1:
        raise ValueError(f'optim_wrapper.accumulative_counts must be a positive integer, got {counts!r} '
                         '(with auto_scale_lr.enable=True it also scales the lr: see '
                         'mae_mm.launch.config_checks.count_accumulation_in_auto_scale_lr)')
    per_step = scale_cfg.get('base_batch_size_per_step', scale_cfg.get('base_batch_size'))
    if per_step is None:
        return  # mmengine's own assertion names the missing key
    if counts == 1 and 'base_batch_size_per_step' not in scale_cfg:
        return
    scale_cfg['base_batch_size_per_step'] = per_step
    scale_cfg['counted_accumulative_counts'] = counts
    scale_cfg['base_batch_size'] = per_step / counts
    print_log(f'auto_scale_lr: optim_wrapper.accumulative_counts={counts}, so an optimizer step sees '
              f'{counts} x world size x train_dataloader.batch_size images; the lr given is for '
              f'auto_scale_lr.base_batch_size_per_step={per_step} images per step, and '
              f'auto_scale_lr.base_batch_size becomes {per_step} / {counts} = {per_step / counts:g} '
              "for mmengine's Runner.scale_lr (whose ratio counts one iteration's images)", 'current')


def check_gpu_decode_pipeline(cfg: Config) -> None:
    """Refuses, before anything is built, a training pipeline the GPU decode path cannot run.

    With ``model.data_preprocessor.type`` ``JpegDecodeDataPreprocessor`` the workers only read bytes
    and draw a RandomResizedCrop box and a flip (:mod:`mae_mm.datasets.gpu_decode`); the GPU
    decodes, crops, resizes and flips. Any other step of ``train_dataloader``'s pipelines (Table 1e's
    "none", fixed-size crop and colour-jitter variants, ``configs/_base_/datasets/mae-pretrain-aug_*.py``,
    or a CPU loader) would only fail at the first batch. Raises ``ValueError`` naming each such step.
    """
    model = cfg.get('model') or {}
    preprocessor = str((model.get('data_preprocessor') or {}).get('type', ''))
    if preprocessor.rsplit('.', 1)[-1] != 'JpegDecodeDataPreprocessor':
        return
    from mae_mm.datasets.gpu_decode import GPU_DECODE_TRANSFORMS
    loader = cfg.get('train_dataloader') or {}
    refused = []
    for key, dataset_cfg in _dataset_cfgs(loader.get('dataset'), 'train_dataloader.dataset'):
        for i, step in enumerate(dataset_cfg.get('pipeline') or []):
            name = str(step.get('type', step) if isinstance(step, dict) else step)
            if name.rsplit('.', 1)[-1] not in GPU_DECODE_TRANSFORMS:
                refused.append(f'  {key}.pipeline[{i}]: {name}')
    if refused:
        raise ValueError(
            f'model.data_preprocessor.type={preprocessor} (the GPU decode path) runs RandomResizedCrop + '
            f'horizontal flip only, with the workers\' pipeline {list(GPU_DECODE_TRANSFORMS)}; it cannot run:\n'
            + '\n'.join(refused) + '\nThe other augmentations of Table 1e (none: resize + centre crop; a '
            'fixed-size random crop; RandomResizedCrop + colour jitter; configs/_base_/datasets/mae-pretrain-aug_*.py) '
            'run on the CPU pipeline: use a pretraining config without gpudecode (DecodeRandomResizedCrop or '
            'LoadCheckedImage, and MAEDataPreprocessor).')
