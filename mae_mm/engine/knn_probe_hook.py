"""An online k-NN probe of the encoder while a masked autoencoder pretrains."""
import logging
import os.path as osp
import time
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.dist import broadcast_object_list, collect_results, get_world_size, is_main_process
from mmengine.hooks import Hook, LoggerHook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop, Runner

from mae_mm.evaluation import knn_top1
from mae_mm.parallel import root_unsharded
from mae_mm.registry import DATASETS, HOOKS
from .random_state_hook import capture_random_state, restore_random_state

FEATURES = ('cls_token', 'mean_patch')


def encoder_features(encoder, imgs: torch.Tensor, feature: str) -> torch.Tensor:
    """(B, 3, H, W) normalised -> (B, D): the unmasked encoder's cls token after the final norm
    (``'cls_token'``) or the mean of its patch tokens after the final norm (``'mean_patch'``)."""
    x, grid = encoder.patch_tokens(imgs)
    x, _ = encoder.run_blocks(encoder.with_cls_token(x), grid)
    x = encoder.norm(x)  # (B, 1 + L, D)
    return x[:, 0] if feature == 'cls_token' else x[:, 1:].mean(dim=1)


def _describe(cfg: dict) -> str:
    return osp.join(str(cfg.get('data_root', '')), str(cfg.get('data_prefix', cfg.get('split', '')) or ''))


def labelled_subset(cfg: dict, size: int, seed: int, role: str):
    """Builds the dataset of ``cfg`` and keeps ``size`` of its images, drawn without replacement
    by a generator of its own seeded with ``seed``; refuses one without labels or too small."""
    where = f'KNNProbeHook {role}_dataset ({cfg.get("type")} at {_describe(cfg)})'
    try:
        dataset = DATASETS.build(cfg)
    except (RuntimeError, FileNotFoundError, AssertionError) as err:
        raise ValueError(f'{where} could not be read as a labelled data set (the ImageNet layout, '
                         f'<root>/<class>/<image>, or an annotation file): {err}') from err
    if len(dataset) == 0 or 'gt_label' not in dataset.get_data_info(0):
        raise ValueError(f'{where} has no labels (a flat folder, or with_label=False): the kNN probe '
                         'needs labelled images; ReconstructionVisHook works without them')
    if size > len(dataset):
        raise ValueError(f'{where}: num_{role}={size} is larger than the data set ({len(dataset)} images)')
    indices = np.random.default_rng(seed).choice(len(dataset), size, replace=False)
    return dataset.get_subset(sorted(indices.tolist()))


@HOOKS.register_module()
class KNNProbeHook(Hook):
    """Weighted k-NN top-1 of the encoder's features, before training (epoch 0), every
    ``interval`` epochs and after the last one, logged as ``knn/top1`` (%).

    The encoder runs without masking on a labelled train subset and a val subset (drawn once,
    seeded); each rank extracts its share and the features are gathered
    (``mmengine.dist.collect_results``). A val image is classified by its ``k`` most
    cosine-similar train images, each voting for its class with weight ``exp(sim / temperature)``
    (DINO's evaluation; :func:`~mae_mm.evaluation.knn_top1`). The value goes to the log, the
    message hub and the visualiser's scalars, at the step mmengine gives validation metrics (the
    epoch in an epoch-based run); each call's time is logged. The random states are put back
    afterwards, so training is unchanged.

    Args:
        train_dataset (dict): Labelled reference images (e.g. ``mmpretrain.ImageNet``, split
            train), with an evaluation pipeline at the encoder's input size.
        val_dataset (dict): Labelled images to classify.
        num_train (int): Size of the train subset (at most the data set's).
        num_val (int): Size of the val subset.
        interval (int): Epochs between probes.
        k (int): Neighbours.
        temperature (float): Vote temperature.
        feature (str): ``'cls_token'`` or ``'mean_patch'`` (see :func:`encoder_features`).
        batch_size (int): Images per forward pass, per rank.
        num_workers (int): DataLoader workers.
        seed (int): Seed of the subsets.
        collect_device (str): ``'cpu'`` or ``'gpu'``, as mmengine's evaluator gathers.
    """

    priority = 'LOW'

    def __init__(self, train_dataset: dict, val_dataset: dict, num_train: int = 10000, num_val: int = 5000,
                 interval: int = 10, k: int = 20, temperature: float = 0.07, feature: str = 'cls_token',
                 batch_size: int = 128, num_workers: int = 0, seed: int = 0, collect_device: str = 'cpu'):
        if feature not in FEATURES:
            raise ValueError(f'KNNProbeHook: feature must be one of {FEATURES}, got {feature!r}')
        if min(interval, k, num_train, num_val) < 1 or temperature <= 0:
            raise ValueError(f'KNNProbeHook: interval ({interval}), k ({k}), num_train ({num_train}) and num_val '
                             f'({num_val}) must be >= 1 and temperature ({temperature}) > 0')
        self.subsets = dict(train=labelled_subset(train_dataset, num_train, seed, 'train'),
                            val=labelled_subset(val_dataset, num_val, seed + 1, 'val'))
        self.interval, self.k, self.temperature, self.feature = interval, k, temperature, feature
        self.loader_cfg = dict(batch_size=batch_size, num_workers=num_workers, persistent_workers=False,
                               sampler=dict(type='DefaultSampler', shuffle=False, seed=seed),
                               collate_fn=dict(type='default_collate'))
        self.collect_device = collect_device
        self.loaders: Dict = {}
        self.seconds = 0.0
        self._run_start: Optional[float] = None

    def before_train(self, runner) -> None:
        self._run_start = time.perf_counter()
        if runner.iter == 0:  # not on a resume
            self.probe(runner, 0)

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self.probe(runner, runner.epoch + 1)

    def after_train(self, runner) -> None:
        if self._run_start is not None:
            total = time.perf_counter() - self._run_start
            print_log(f'KNNProbeHook: {self.seconds:.1f} s of this run\'s {total:.1f} s of training '
                      f'({100 * self.seconds / max(total, 1e-9):.1f}%)', logger='current')

    @torch.no_grad()
    def features(self, runner, split: str) -> Optional[list]:
        """One subset's ``(feature (D,) float32 array, label)`` pairs from every rank, on rank 0 (None
        elsewhere)."""
        if split not in self.loaders:
            self.loaders[split] = Runner.build_dataloader(dict(self.loader_cfg, dataset=self.subsets[split]))
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        results = []
        for batch in self.loaders[split]:
            imgs = model.data_preprocessor(batch, False)['inputs']
            with root_unsharded(model):  # a sharded model: every rank is here, in step
                feats = encoder_features(model.encoder, imgs, self.feature).float().cpu()
            labels = [int(sample.gt_label) for sample in batch['data_samples']]
            # numpy rows: collect_results pickles every item, and a pickled tensor view costs
            # milliseconds (seen: 15-30 s for 400 features on gloo, against 0.1 s as numpy)
            results.extend(zip(feats.numpy(), labels))
        if get_world_size() > 1:  # rank 0 gets all of them in the data set's order, the others None
            results = collect_results(results, len(self.subsets[split]), self.collect_device)
        return results

    def probe(self, runner, epoch: int) -> float:
        """Extracts, classifies and reports; returns the top-1 (%), the same on every rank."""
        start = time.perf_counter()
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state, was_training = capture_random_state(), model.training
        try:
            model.eval()
            train, val = self.features(runner, 'train'), self.features(runner, 'val')
        finally:
            model.train(was_training)
            restore_random_state(state)
        top1 = [None]
        if is_main_process():
            (train_feats, train_labels), (val_feats, val_labels) = (
                (torch.from_numpy(np.stack([f for f, _ in pairs])), torch.tensor([label for _, label in pairs]))
                for pairs in (train, val))
            top1 = [knn_top1(train_feats, train_labels, val_feats, val_labels, self.k, self.temperature)]
        if get_world_size() > 1:
            broadcast_object_list(top1)
        seconds = time.perf_counter() - start
        self.seconds += seconds
        runner.message_hub.update_scalar('knn/top1', top1[0])
        runner.visualizer.add_scalars({'knn/top1': top1[0]}, step=metric_step(runner, epoch))
        print_log(f'KNNProbeHook: knn/top1 {top1[0]:.2f} at epoch {epoch} (k={self.k}, T={self.temperature}, '
                  f'{self.feature}, {len(self.subsets["train"])} train / {len(self.subsets["val"])} val images): '
                  f'{seconds:.1f} s',
                  logger='current', level=logging.INFO)
        return top1[0]


def metric_step(runner, epoch: int) -> int:
    """The step mmengine's LoggerHook writes validation metrics at: ``epoch`` in an epoch-based run
    (its ``log_metric_by_epoch``, the default), else the iteration."""
    logger = next((h for h in runner.hooks if isinstance(h, LoggerHook)), None)
    by_epoch = logger is None or logger.log_metric_by_epoch
    return epoch if by_epoch and isinstance(runner.train_loop, EpochBasedTrainLoop) else runner.iter
