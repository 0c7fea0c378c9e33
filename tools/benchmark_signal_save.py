"""How long a save on a signal takes: the figure to choose Slurm's ``--signal`` lead time from.

    python tools/benchmark_signal_save.py CONFIG [CONFIG ...] [--out-dir DIR] [--repeats 3]

For each (pretraining) config it builds the model, takes one AdamW step so the optimizer holds
its moments, then times what :class:`~mae_mm.engine.preemption.SaveOnSignalHook` does on a
signal: the weights and optimizer state copied to the CPU and written as one mmengine
checkpoint through the atomic backend (temporary file, fsync, rename). It prints the median
time and the file size. On a GPU machine add the copy of the weights off the GPU (included
here when CUDA is there); on a cluster the file system's write speed dominates.
"""
import argparse
import os
import os.path as osp
import statistics
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

from mae_mm.engine.atomic_backend import ATOMIC_BACKEND
from mae_mm.registry import MODELS
from mae_mm.runtime import setup_runtime


def build(config: str):
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mae_mm'):
        model = MODELS.build(cfg.model)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    size = model.encoder.img_size if hasattr(model.encoder, 'img_size') else model.encoder.pretrain_img_size
    imgs = torch.randn(2, 3, *size, device=device)
    model.loss(imgs)['loss'].backward()
    optimizer.step()
    return model, optimizer


def time_save(model, optimizer, path: str) -> float:
    start = time.perf_counter()
    checkpoint = dict(meta=dict(epoch=0, iter=1), state_dict=weights_to_cpu(model.state_dict()),
                      optimizer={k: v for k, v in optimizer.state_dict().items()})
    checkpoint['optimizer']['state'] = {i: {k: v.cpu() for k, v in s.items()}
                                        for i, s in checkpoint['optimizer']['state'].items()}
    save_checkpoint(checkpoint, path, backend_args=dict(backend=ATOMIC_BACKEND))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--out-dir', help='where the checkpoints are written (default: a temporary folder)')
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    setup_runtime()
    out_dir = args.out_dir or tempfile.mkdtemp(prefix='signal_save_')
    for config in args.configs:
        model, optimizer = build(config)
        path = osp.join(out_dir, 'iter_1.pth')
        times = [time_save(model, optimizer, path) for _ in range(args.repeats)]
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f'{osp.basename(config)}: {params:.1f}M parameters, checkpoint {os.path.getsize(path) / 2 ** 20:.0f} MiB, '
              f'save on a signal {statistics.median(times):.2f} s (median of {args.repeats}; '
              f'{", ".join(f"{t:.2f}" for t in times)})')
        os.remove(path)


if __name__ == '__main__':
    main()
