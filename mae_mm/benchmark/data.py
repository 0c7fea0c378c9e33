"""Data loading on generated ImageNet-like JPEGs: rates per CPU worker, and a DataLoader of them.

Two sets, made once per folder, photo-like (smooth colour fields plus grain, quality 90):

- :func:`make_jpegs`: 500 x 375 only, ~114 KB each (ImageNet's typical image);
- :func:`make_jpeg_mix`: :data:`JPEG_MIX`, mostly 500 x 375 and 375 x 500, some near 1000 px
  and a few larger, ~110 KB on average.

Rates are medians over repeated passes, in img/s.
"""
import math
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Callable, List

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from PIL import Image

from mae_mm.registry import MODELS

JPEG_FOLDER = osp.join(tempfile.gettempdir(), 'mae_mm_bench_jpegs')
MIX_FOLDER = osp.join(tempfile.gettempdir(), 'mae_mm_bench_jpeg_mix')

# (width, height, share of the files). An approximation of ImageNet-1k's train set, chosen by this
# project from its known shape, not measured from its files: most of its images were stored at
# 500 px on the long side, landscape more often than portrait; a minority are larger (around
# 1000 px and a few beyond); the set is ~1.28 M files in ~140 GB, ~110 KB per file.
JPEG_MIX = ((500, 375, 0.50), (375, 500, 0.30), (1000, 750, 0.08), (750, 1000, 0.07), (1600, 1200, 0.03),
            (2048, 1536, 0.02))
_MIX_GRAIN = 18  # the grain's amplitude in levels, at the 500-px size


def make_jpegs(folder: str = JPEG_FOLDER, count: int = 64, size=(500, 375), quality: int = 90) -> List[str]:
    """Photo-like JPEGs of ImageNet's typical size: smooth colour fields plus grain (~110 KB);
    the ones already in ``folder`` are kept. Returns their paths."""
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    w, h = size
    paths = []
    for i in range(count):
        path = osp.join(folder, f'{i:04d}_{w}x{h}_q{quality}.JPEG')
        if not osp.exists(path):
            low = rng.integers(0, 256, (h // 8, w // 8, 3)).astype(np.uint8)
            img = Image.fromarray(low).resize((w, h), Image.BICUBIC)
            noisy = np.asarray(img, dtype=np.int16) + rng.integers(-32, 33, (h, w, 3))
            Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(path, quality=quality)
        paths.append(path)
    return paths


def _photo_like(w: int, h: int, grain: int, rng) -> Image.Image:
    """Smooth colour fields (one random colour per 8 px of the 500-px size of this orientation,
    bicubic) plus grain of ``grain`` levels at 500 px, thinner by the square of the size ratio on
    larger pictures (which, as photographs, carry fewer bytes per pixel)."""
    bw, bh = (w, h) if max(w, h) <= 500 else ((500, 375) if w >= h else (375, 500))
    low = rng.integers(0, 256, (bh // 8, bw // 8, 3)).astype(np.uint8)
    img = np.asarray(Image.fromarray(low).resize((w, h), Image.BICUBIC), dtype=np.int16)
    amplitude = max(1, round(grain * (max(bw, bh) / max(w, h)) ** 2))
    return Image.fromarray((img + rng.integers(-amplitude, amplitude + 1, (h, w, 3))).clip(0, 255).astype(np.uint8))


def make_jpeg_mix(folder: str = MIX_FOLDER, count: int = 100, quality: int = 90) -> List[str]:
    """:data:`JPEG_MIX` in ``count`` files (each size's share rounded, at least one file), made
    once per folder. Returns their paths, sizes in the mix's order."""
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for w, h, share in JPEG_MIX:
        for i in range(max(1, round(share * count))):
            path = osp.join(folder, f'{w}x{h}_{i:03d}_q{quality}.JPEG')
            img = _photo_like(w, h, _MIX_GRAIN, rng)  # drawn even when kept: the same files for any count
            if not osp.exists(path):
                img.save(path, quality=quality)
            paths.append(path)
    return paths


def official_pipeline() -> Callable[[str], torch.Tensor]:
    """The official MAE pretraining input: ImageFolder's PIL loader, then torchvision's
    RandomResizedCrop(224, scale (0.2, 1), bicubic), RandomHorizontalFlip, ToTensor and Normalize,
    as its ``main_pretrain.py`` composes them. path -> (3, 224, 224) float."""
    from torchvision import transforms
    steps = transforms.Compose([
        transforms.RandomResizedCrop(224, scale=(0.2, 1.0), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])

    def load(path: str) -> torch.Tensor:
        with open(path, 'rb') as f:
            return steps(Image.open(f).convert('RGB'))
    return load


# mmpretrain 1.2.0's MAE pretraining pipeline (configs/_base_/datasets/imagenet_bs512_mae.py).
MMPRETRAIN_MAE_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]


def paths_rate(load: Callable[[str], object], paths: List[str], seconds: float) -> float:
    """img/s of ``load(path)`` over ``paths``, in this process."""
    return median_rate(lambda: [load(p) for p in paths], len(paths), seconds)


def one_worker_thread() -> None:
    """This process computes on one thread, as one DataLoader worker on one core does."""
    import cv2
    torch.set_num_threads(1)
    cv2.setNumThreads(0)


def median_rate(fn: Callable[[], object], count: int, seconds: float) -> float:
    """Median img/s of repeated calls of ``fn`` (which handles ``count`` images) for ~``seconds``
    (at least 3 calls, after one warm-up call)."""
    fn()
    rates, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(rates) < 3:
        t = time.perf_counter()
        fn()
        rates.append(count / (time.perf_counter() - t))
    return statistics.median(rates)


def pipeline_rate(cfg, paths: List[str], seconds: float, steps=None) -> float:
    """img/s of the config's train pipeline (or of ``steps``) over ``paths``, in this process."""
    pipeline = Compose(steps if steps is not None else cfg.train_dataloader.dataset.pipeline)
    return paths_rate(lambda p: pipeline(dict(img_path=p, gt_label=0)), paths, seconds)


def decode_rate(cfg, paths: List[str], batch: int, device: str, seconds: float) -> float:
    """img/s of a GPU-decode config's data preprocessor (batched decode + crop + resize + flip) on
    ``device``, for one batch of ``batch`` images its worker pipeline prepared from ``paths``."""
    pre = MODELS.build(cfg.model.data_preprocessor).to(device)
    worker = Compose(cfg.train_dataloader.dataset.pipeline)
    data = pseudo_collate([worker(dict(img_path=paths[i % len(paths)])) for i in range(batch)])

    def decode():
        out = pre(data, True)['inputs']
        if out.is_cuda:
            torch.cuda.synchronize()
    return median_rate(decode, batch, seconds)


def workers_to_feed(step_rate: float, per_worker: float) -> int:
    """How many workers of ``per_worker`` img/s keep a train step of ``step_rate`` img/s fed."""
    return math.ceil(step_rate / per_worker)


def jpeg_batches(cfg, batch: int, workers: int, folder: str = MIX_FOLDER):
    """An endless iterator of batches of the config's train pipeline over :func:`make_jpeg_mix`'s
    files, through a DataLoader of ``workers`` workers with pinned memory."""
    paths = make_jpeg_mix(folder)
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return 10 ** 9

        def __getitem__(self, i):
            return pipeline(dict(img_path=paths[i % len(paths)], gt_label=0))

    loader = torch.utils.data.DataLoader(Images(), batch_size=batch, num_workers=workers, collate_fn=pseudo_collate,
                                         pin_memory=True, persistent_workers=workers > 0)
    return iter(loader)
