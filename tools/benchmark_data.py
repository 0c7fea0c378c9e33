"""Data-loading throughput per CPU worker: the official MAE pipeline, mmpretrain's and ours, side by side.

    python tools/benchmark_data.py CONFIG [--images N] [--seconds S] [--step-rate IMG_PER_S]
                                          [--decoders] [--gpu-decode-config CONFIG] [--batch B]

Makes two sets of photo-like JPEGs once (mae_mm/benchmark/data.py): an ImageNet-like mix
(JPEG_MIX: mostly 500 x 375 and 375 x 500, some near 1000 px, a few larger; ~117 KB on
average) and 500 x 375 alone (~114 KB). Times on each, in this one process on one thread (what one
DataLoader worker gets), decode + RandomResizedCrop(224, scale 0.2-1, bicubic) + flip:

- ``official``: the official MAE code's input (PIL decode, torchvision RandomResizedCrop, flip,
  ToTensor, Normalize);
- ``mmpretrain``: mmpretrain 1.2.0's MAE pipeline (OpenCV decode, Pillow resize);
- ``mae_mm, full decode``: CONFIG's pipeline with ``reduced_decode=False`` (today's before the
  reduced decode: LoadCheckedImage's checks, OpenCV decode, Pillow resize);
- ``mae_mm``: CONFIG's train pipeline as configured (the reduced decode).

Then the speed-up over the official pipeline and, with ``--step-rate``, how many workers keep a
train step of that many img/s fed (measure it with tools/benchmark.py on the GPU).
``--decoders`` adds the candidates the reduced decode was chosen from (mae_mm/benchmark/decoders.py).
``--gpu-decode-config`` adds that config's worker part and its batched decode on ``--device``.
Rates are medians over repeated passes.
"""
import argparse
import copy
import os
import os.path as osp
import statistics

import cv2
import mmcv
import PIL
import torch
import torchvision
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mae_mm.benchmark.data import (JPEG_FOLDER, MIX_FOLDER, MMPRETRAIN_MAE_PIPELINE, decode_rate, make_jpeg_mix,
                                   make_jpegs, official_pipeline, one_worker_thread, paths_rate, pipeline_rate,
                                   workers_to_feed)
from mae_mm.runtime import setup_runtime


def full_decode_steps(cfg):
    """CONFIG's train pipeline with the reduced decode turned off (None if it has none)."""
    steps = copy.deepcopy(list(cfg.train_dataloader.dataset.pipeline))
    first = steps[0]
    if str(first.get('type', '')).rsplit('.', 1)[-1] != 'DecodeRandomResizedCrop':
        return None
    first['reduced_decode'] = False
    return steps


def rates_of(cfg, paths, seconds):
    """{pipeline: img/s} over ``paths``."""
    rates = {'official (PIL + torchvision)': paths_rate(official_pipeline(), paths, seconds)}
    init_default_scope('mmpretrain')
    rates['mmpretrain (OpenCV decode + Pillow resize)'] = pipeline_rate(cfg, paths, seconds, MMPRETRAIN_MAE_PIPELINE)
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    full = full_decode_steps(cfg)
    if full is not None:
        rates['mae_mm, full decode (reduced_decode=False)'] = pipeline_rate(cfg, paths, seconds, full)
    rates['mae_mm (the config\'s pipeline)'] = pipeline_rate(cfg, paths, seconds)
    return rates


def print_decoders(sets, seconds):
    from mae_mm.benchmark.decoders import SCALES, decoder_rates, profile_reduced_decode, random_crops, resize_rates
    for set_name, paths in sets.items():
        print(f'\nJPEG decoders on {set_name}, per process (img/s), full size and 1/2, 1/4, 1/8 DCT scales:')
        print(f'  {"decoder":56s}' + ''.join(f'{"1/" + str(k) if k > 1 else "full":>8s}' for k in SCALES))
        for name, rates in decoder_rates(paths, rounds=max(3, round(4 * seconds))).items():
            if isinstance(rates, str):
                print(f'  {name:56s} {rates}')
                continue
            print(f'  {name:56s}' + ''.join(f'{rates[k]:8.0f}' if rates[k] else f'{"-":>8s}' for k in SCALES))
    print('\nWhere the reduced decode\'s time goes, ms per image on each set (one thread):')
    profiles = {name: profile_reduced_decode(paths) for name, paths in sets.items()}
    print(f'  {"stage":56s}' + ''.join(f'{name:>10s}' for name in sets))
    for stage in profiles['mix']:
        print(f'  {stage:56s}' + ''.join(f'{profiles[name][stage]:10.3f}' for name in sets))
    print(f'  {"total (without the 1/8 decode)":56s}'
          + ''.join(f'{sum(v for k, v in profiles[name].items() if not k.startswith("(")):10.3f}' for name in sets))
    print('\nResize kernels, RandomResizedCrop-like crops of the mix -> 224 x 224 uint8:')
    print(f'  {"kernel":56s}{"img/s":>8s}  mean |diff| from Pillow (levels)')
    for name, (rate, mad) in resize_rates(random_crops(sets['mix']), seconds).items():
        print(f'  {name:56s}{rate:8.0f}  {mad:.3f}')


def main():
    setup_runtime()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--images', type=int, default=100, help='files in the mix, and of 500 x 375')
    parser.add_argument('--seconds', type=float, default=5.0, help='timing per measurement')
    parser.add_argument('--step-rate', type=float, help='the train step img/s to feed (tools/benchmark.py)')
    parser.add_argument('--decoders', action='store_true', help='also time the candidate decoders and resizers')
    parser.add_argument('--gpu-decode-config', help='a config whose data preprocessor decodes (the GPU path)')
    parser.add_argument('--batch', type=int, default=64, help='images per batched decode (--gpu-decode-config)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--folder', default=JPEG_FOLDER, help='where the 500 x 375 JPEGs are made')
    parser.add_argument('--mix-folder', default=MIX_FOLDER, help='where the mix is made')
    args = parser.parse_args()

    one_worker_thread()
    sets = {'mix': make_jpeg_mix(args.mix_folder, args.images), '500x375': make_jpegs(args.folder, args.images)}
    for name, paths in sets.items():
        kb = statistics.mean(osp.getsize(p) for p in paths) / 1000
        print(f'{name}: {len(paths)} JPEGs, mean {kb:.0f} KB')
    print(f'{os.cpu_count()} cores, one thread per process; torch {torch.__version__}, torchvision '
          f'{torchvision.__version__}, Pillow {PIL.__version__}, OpenCV {cv2.__version__}, mmcv {mmcv.__version__}')

    cfg = Config.fromfile(args.config)
    table = {name: rates_of(cfg, paths, args.seconds) for name, paths in sets.items()}
    print(f'\nper process, img/s (decode + RandomResizedCrop + flip; {osp.basename(args.config)}):')
    print(f'  {"pipeline":48s}{"mix":>8s}{"x official":>11s}{"500x375":>9s}{"x official":>11s}'
          + (f'{"workers for " + str(int(args.step_rate)):>18s}' if args.step_rate else ''))
    official = {name: next(iter(rates.values())) for name, rates in table.items()}
    for pipeline in table['mix']:
        mix, small = table['mix'][pipeline], table['500x375'][pipeline]
        line = (f'  {pipeline:48s}{mix:8.0f}{mix / official["mix"]:10.2f}x'
                f'{small:9.0f}{small / official["500x375"]:10.2f}x')
        if args.step_rate:
            line += f'{workers_to_feed(args.step_rate, mix):18d}'
        print(line)

    if args.decoders:
        print_decoders(sets, args.seconds)

    if args.gpu_decode_config:
        gcfg = Config.fromfile(args.gpu_decode_config)
        paths = sets['500x375']
        init_default_scope(gcfg.get('default_scope', 'mae_mm'))
        worker = pipeline_rate(gcfg, paths, args.seconds)
        print(f'\ngpu decode, worker part on 500x375 (read bytes + header + crop/flip draws): {worker:.1f} img/s')
        device_rate = decode_rate(gcfg, paths, args.batch, args.device, args.seconds)
        print(f'gpu decode, preprocessor part on {args.device} (batched decode + crop + resize + flip, batch '
              f'{args.batch}): {device_rate:.1f} img/s' + (' (one CPU thread: not a GPU figure)'
                                                          if args.device == 'cpu' else ''))


if __name__ == '__main__':
    main()
