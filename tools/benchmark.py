"""Times the train step of a pretraining or fine-tuning config: img/s and peak memory.

    python tools/benchmark.py CONFIG [--batch N] [--steps K] [--windows W] [--amp bf16|fp16|none]
                                     [--compile] [--vs-mmpretrain] [--data synthetic|jpeg]

One step is the config's whole ``model.train_step`` (data preprocessor, forward, backward,
optimizer step through its optimizer wrapper). The figure is the median over W timed windows
of K steps, after warm-up, with the device synchronised at each window's ends.
``--data synthetic`` feeds one pre-made uint8 batch already on the device; ``--data jpeg``
makes ImageNet-sized JPEGs (500 x 375, ~110 KB) and runs the config's own train pipeline
through a DataLoader (``--workers``). ``--compile`` compiles the model's ``train_step``'s
forward as mmengine's ``compile=True`` does. ``--vs-mmpretrain`` (pretraining configs) also
times mmpretrain's MAE at the same size, batch, precision and compile setting.
"""
import argparse
import os
import os.path as osp
import resource
import statistics
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from PIL import Image

import mae_mm  # noqa: F401
from mae_mm.registry import MODELS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, help='images per step (default: the config\'s per-GPU batch)')
    parser.add_argument('--steps', type=int, default=10, help='steps per timed window')
    parser.add_argument('--windows', type=int, default=5, help='timed windows (the median is reported)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    parser.add_argument('--amp', choices=['bf16', 'fp16', 'none'], default=None,
                        help='autocast dtype (default bf16 on CUDA, none on CPU)')
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--vs-mmpretrain', action='store_true')
    parser.add_argument('--data', choices=['synthetic', 'jpeg'], default='synthetic')
    parser.add_argument('--workers', type=int, default=8, help='DataLoader workers with --data jpeg')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    if args.amp is None:
        args.amp = 'bf16' if args.device.startswith('cuda') else 'none'
    if args.amp != 'none' and not args.device.startswith('cuda'):
        parser.error('--amp needs a CUDA device (mmengine\'s AmpOptimWrapper)')
    return args


def optim_wrapper_cfg(cfg, amp):
    wrapper = cfg.optim_wrapper.copy()
    if amp == 'none':
        wrapper.type = 'OptimWrapper'
        for key in ('dtype', 'loss_scale'):
            wrapper.pop(key, None)
    else:
        wrapper.type = 'AmpOptimWrapper'
        wrapper.dtype = dict(bf16='bfloat16', fp16='float16')[amp]
    return wrapper


def image_size(cfg):
    for key in ('encoder', 'backbone'):
        sub = cfg.model.get(key)
        if sub is not None:
            size = sub.get('img_size', 224)
            return (size, size) if isinstance(size, int) else tuple(size)
    raise KeyError('no model.encoder or model.backbone with img_size in the config')


def synthetic_batches(cfg, batch, device):
    """One uint8 batch on the device, repeated: (B, 3, H, W) plus labels for classifiers."""
    from mmpretrain.structures import DataSample
    h, w = image_size(cfg)
    num_classes = cfg.model.get('head', {}).get('num_classes', 1000)
    gen = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (batch, 3, h, w), dtype=torch.uint8, generator=gen).to(device)
    samples = [DataSample().set_gt_label(int(torch.randint(num_classes, (1,), generator=gen))) for _ in range(batch)]
    data = dict(inputs=imgs, data_samples=samples)
    while True:
        yield data


def make_jpegs(folder, count=64):
    """ImageNet-like JPEGs: 500 x 375, smooth noise at quality 90 (~110 KB each)."""
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        low = rng.integers(0, 256, (47, 63, 3)).astype(np.uint8)
        img = Image.fromarray(low).resize((500, 375), Image.BICUBIC)
        noisy = np.asarray(img, dtype=np.int16) + rng.integers(-40, 41, (375, 500, 3))
        path = osp.join(folder, f'{i:04d}.JPEG')
        Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def jpeg_batches(cfg, batch, workers, folder):
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


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_steps(model, wrapper, batches, args, label):
    if args.compile:
        model.forward = torch.compile(model.forward)
    for _ in range(args.warmup):
        model.train_step(next(batches), optim_wrapper=wrapper)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    rates = []
    for _ in range(args.windows):
        sync(args.device)
        start = time.perf_counter()
        for _ in range(args.steps):
            model.train_step(next(batches), optim_wrapper=wrapper)
        sync(args.device)
        rates.append(args.batch * args.steps / (time.perf_counter() - start))
    if args.device.startswith('cuda'):
        memory = f'{torch.cuda.max_memory_allocated() / 2 ** 30:.2f} GiB peak allocated'
    else:
        memory = f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20:.2f} GiB peak RSS (process)'
    rate = statistics.median(rates)
    print(f'{label}: {rate:.1f} img/s (median of {args.windows} x {args.steps} steps, batch {args.batch}, '
          f'amp {args.amp}, compile {args.compile}, data {args.data}), {memory}')
    return rate


def mmpretrain_mae(cfg):
    """mmpretrain's MAE at our config's sizes."""
    from mae_mm.models.vit import resolve_arch
    enc, dec = cfg.model.encoder, cfg.model.decoder
    arch = resolve_arch(enc.arch)
    patch = enc.get('patch_size') or arch['patch_size']
    size = enc.get('img_size', 224)
    grid = size // patch
    return MODELS.build(dict(
        type='mmpretrain.MAE',
        data_preprocessor=dict(type='mmpretrain.SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=True),
        backbone=dict(type='mmpretrain.MAEViT', img_size=size, patch_size=patch, mask_ratio=enc.get('mask_ratio', 0.75),
                      arch=dict(embed_dims=arch['embed_dim'], num_layers=arch['depth'], num_heads=arch['num_heads'],
                                feedforward_channels=int(arch['embed_dim'] * arch['mlp_ratio']))),
        neck=dict(type='mmpretrain.MAEPretrainDecoder', patch_size=patch, in_chans=3, embed_dim=arch['embed_dim'],
                  decoder_embed_dim=dec.get('embed_dim', 512), decoder_depth=dec.get('depth', 8),
                  decoder_num_heads=dec.get('num_heads', 16), mlp_ratio=4.0, num_patches=grid * grid),
        head=dict(type='mmpretrain.MAEPretrainHead', norm_pix=True, patch_size=patch,
                  loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2'))))


def main():
    args = parse_args()
    MMLogger.get_instance('benchmark', log_level='WARNING')  # no per-parameter optimizer lines
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    args.batch = args.batch or cfg.train_dataloader.batch_size
    print(f'torch {torch.__version__}, device {args.device}'
          + (f' ({torch.cuda.get_device_name()})' if args.device.startswith('cuda') else f' ({os.cpu_count()} cores)'))

    def batches():
        if args.data == 'synthetic':
            return synthetic_batches(cfg, args.batch, args.device)
        return jpeg_batches(cfg, args.batch, args.workers, osp.join(tempfile.gettempdir(), 'mae_mm_bench_jpegs'))

    model = MODELS.build(cfg.model).to(args.device).train()
    ours = time_steps(model, build_optim_wrapper(model, optim_wrapper_cfg(cfg, args.amp)), batches(), args, 'mae_mm')
    if args.vs_mmpretrain:
        if cfg.model.type != 'MaskedAutoencoder':
            raise SystemExit('--vs-mmpretrain compares pretraining configs (model.type MaskedAutoencoder)')
        del model
        ref = mmpretrain_mae(cfg).to(args.device).train()
        wrapper_cfg = optim_wrapper_cfg(cfg, args.amp)
        theirs = time_steps(ref, build_optim_wrapper(ref, wrapper_cfg), batches(), args, 'mmpretrain')
        print(f'ratio mae_mm / mmpretrain: {ours / theirs:.3f}')


if __name__ == '__main__':
    main()
