"""Data-loading throughput of a pretraining config, per CPU worker, on JPEGs it makes itself.

    python tools/benchmark_data.py CONFIG [--images N] [--seconds S] [--step-rate IMG_PER_S]
                                          [--gpu-decode-config CONFIG] [--batch B]

Makes ImageNet-sized JPEGs (500 x 375 at quality 90, ~110 KB: ImageNet's typical size) and
times, in this one process on one thread (what one DataLoader worker gets):

- ``cpu pipeline``: the config's train pipeline (decode + RandomResizedCrop + flip + pack);
- with ``--gpu-decode-config``: that config's worker pipeline (read bytes + header + draws),
  and its data preprocessor's batched decode + crop + resize + flip on ``--device``
  (CPU here, so that figure says nothing about the GPU's).

Then prints how many workers keep a train step of ``--step-rate`` img/s fed (measure that
with tools/benchmark.py on the GPU). Rates are medians over repeated passes.
"""
import argparse
import math
import os
import os.path as osp
import statistics
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from PIL import Image

from mae_mm.registry import MODELS
from mae_mm.runtime import setup_runtime


def make_jpegs(folder, count=64, size=(500, 375), quality=90):
    """Photo-like JPEGs of ImageNet's typical size: smooth colour fields plus grain (~110 KB)."""
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


def rate(fn, count, seconds):
    """Median img/s of repeated calls of ``fn`` (which handles ``count`` images) for ~``seconds``."""
    fn()  # warm-up
    rates, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(rates) < 3:
        t = time.perf_counter()
        fn()
        rates.append(count / (time.perf_counter() - t))
    return statistics.median(rates)


def pipeline_rate(cfg, paths, seconds):
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)
    return rate(lambda: [pipeline(dict(img_path=p, gt_label=0)) for p in paths], len(paths), seconds)


def main():
    setup_runtime()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--gpu-decode-config', help='a config whose data preprocessor decodes (the GPU path)')
    parser.add_argument('--images', type=int, default=64, help='distinct JPEGs made')
    parser.add_argument('--batch', type=int, default=64, help='images per batched decode')
    parser.add_argument('--seconds', type=float, default=5.0, help='timing per measurement')
    parser.add_argument('--step-rate', type=float, help='the train step img/s to feed (tools/benchmark.py)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--folder', default=osp.join(tempfile.gettempdir(), 'mae_mm_bench_jpegs'))
    args = parser.parse_args()

    torch.set_num_threads(1)  # one worker, one core
    import cv2
    cv2.setNumThreads(0)
    paths = make_jpegs(args.folder, args.images)
    kb = statistics.mean(osp.getsize(p) for p in paths) / 1000
    print(f'{len(paths)} JPEGs of 500x375, mean {kb:.0f} KB; torch {torch.__version__}, {os.cpu_count()} cores')

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    cpu = pipeline_rate(cfg, paths, args.seconds)
    print(f'cpu pipeline (decode + RandomResizedCrop + flip): {cpu:.1f} img/s per worker')
    per_worker = {'cpu pipeline': cpu}

    if args.gpu_decode_config:
        gcfg = Config.fromfile(args.gpu_decode_config)
        per_worker['gpu decode'] = pipeline_rate(gcfg, paths, args.seconds)
        print(f'gpu decode, worker part (read bytes + header + crop/flip draws): {per_worker["gpu decode"]:.1f} '
              f'img/s per worker')
        pre = MODELS.build(gcfg.model.data_preprocessor).to(args.device)
        worker = Compose(gcfg.train_dataloader.dataset.pipeline)
        chosen = [paths[i % len(paths)] for i in range(args.batch)]
        batch = pseudo_collate([worker(dict(img_path=p)) for p in chosen])

        def decode():
            out = pre(batch, True)['inputs']
            if out.is_cuda:
                torch.cuda.synchronize()

        dev = rate(decode, args.batch, args.seconds)
        print(f'gpu decode, preprocessor part on {args.device} (batched decode + crop + resize + flip, batch '
              f'{args.batch}): {dev:.1f} img/s' + (' (one CPU thread: not a GPU figure)' if args.device == 'cpu'
                                                   else ''))

    if args.step_rate:
        for name, value in per_worker.items():
            print(f'{name}: {math.ceil(args.step_rate / value)} workers feed {args.step_rate:.0f} img/s')


if __name__ == '__main__':
    main()
