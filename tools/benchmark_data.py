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
The code: mae_mm/benchmark/data.py.
"""
import argparse
import os
import os.path as osp
import statistics

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mae_mm.benchmark.data import (JPEG_FOLDER, decode_rate, make_jpegs, one_worker_thread, pipeline_rate,
                                   workers_to_feed)
from mae_mm.runtime import setup_runtime


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
    parser.add_argument('--folder', default=JPEG_FOLDER)
    args = parser.parse_args()

    one_worker_thread()
    paths = make_jpegs(args.folder, args.images)
    kb = statistics.mean(osp.getsize(p) for p in paths) / 1000
    print(f'{len(paths)} JPEGs of 500x375, mean {kb:.0f} KB; torch {torch.__version__}, {os.cpu_count()} cores')

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    per_worker = {'cpu pipeline': pipeline_rate(cfg, paths, args.seconds)}
    print(f'cpu pipeline (decode + RandomResizedCrop + flip): {per_worker["cpu pipeline"]:.1f} img/s per worker')

    if args.gpu_decode_config:
        gcfg = Config.fromfile(args.gpu_decode_config)
        per_worker['gpu decode'] = pipeline_rate(gcfg, paths, args.seconds)
        print(f'gpu decode, worker part (read bytes + header + crop/flip draws): {per_worker["gpu decode"]:.1f} '
              f'img/s per worker')
        device_rate = decode_rate(gcfg, paths, args.batch, args.device, args.seconds)
        print(f'gpu decode, preprocessor part on {args.device} (batched decode + crop + resize + flip, batch '
              f'{args.batch}): {device_rate:.1f} img/s' + (' (one CPU thread: not a GPU figure)' if args.device == 'cpu'
                                                          else ''))

    if args.step_rate:
        for name, value in per_worker.items():
            print(f'{name}: {workers_to_feed(args.step_rate, value)} workers feed {args.step_rate:.0f} img/s')


if __name__ == '__main__':
    main()
