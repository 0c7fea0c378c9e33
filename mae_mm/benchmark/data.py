"""Data loading on generated ImageNet-sized JPEGs: rates per CPU worker, and a DataLoader of them.

The JPEGs are 500 x 375 at quality 90, ~110 KB (ImageNet's typical file), made once per folder.
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


def pipeline_rate(cfg, paths: List[str], seconds: float) -> float:
    """img/s of the config's train pipeline over ``paths``, in this process."""
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)
    return median_rate(lambda: [pipeline(dict(img_path=p, gt_label=0)) for p in paths], len(paths), seconds)


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


def jpeg_batches(cfg, batch: int, workers: int, folder: str = JPEG_FOLDER):
    """An endless iterator of batches of the config's train pipeline over :func:`make_jpegs`' files,
    through a DataLoader of ``workers`` workers with pinned memory."""
    paths = make_jpegs(folder)
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return 10 ** 9

        def __getitem__(self, i):
            return pipeline(dict(img_path=paths[i % len(paths)], gt_label=0))

    loader = torch.utils.data.DataLoader(Images(), batch_size=batch, num_workers=workers, collate_fn=pseudo_collate,
                                         pin_memory=True, persistent_workers=workers > 0)
    return iter(loader)
