"""How long a save on a signal takes: the figure to choose Slurm's ``--signal`` lead time from.

For a (pretraining) config it builds the model, takes one AdamW step so the optimizer holds its
moments, then times what :class:`~mae_mm.engine.preemption.SaveOnSignalHook` does on a signal: the
weights and optimizer state copied to the CPU (off the GPU when CUDA is there) and written as one
mmengine checkpoint through the atomic backend (temporary file, fsync, rename).
"""
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

from mae_mm.engine.atomic_backend import ATOMIC_BACKEND
from mae_mm.registry import MODELS


@dataclass(frozen=True)
class SaveTiming:
    params: int  # the model's parameters
    checkpoint_bytes: int  # the file written
    seconds: Tuple[float, ...]  # each save's


def build(config: str):
    """The config's model on the GPU if there is one, and an AdamW that took one step on it."""
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mae_mm'):
        model = MODELS.build(cfg.model)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    imgs = torch.randn(2, 3, *model.encoder.pretrain_img_size, device=device)  # (2, 3, H, W)
    model.loss(imgs)['loss'].backward()
    optimizer.step()
    return model, optimizer


def time_save(model, optimizer, path: str) -> float:
    """Seconds to copy the weights and optimizer state to the CPU and write them to ``path`` atomically."""
    start = time.perf_counter()
    checkpoint = dict(meta=dict(epoch=0, iter=1), state_dict=weights_to_cpu(model.state_dict()),
                      optimizer={k: v for k, v in optimizer.state_dict().items()})
    checkpoint['optimizer']['state'] = {i: {k: v.cpu() for k, v in s.items()}
                                        for i, s in checkpoint['optimizer']['state'].items()}
    save_checkpoint(checkpoint, path, backend_args=dict(backend=ATOMIC_BACKEND))
    return time.perf_counter() - start


def time_signal_save(config: str, out_dir: str, repeats: int = 3) -> SaveTiming:
    """``repeats`` saves of ``config``'s model and optimizer to ``out_dir`` (the file removed after)."""
    model, optimizer = build(config)
    path = osp.join(out_dir, 'iter_1.pth')
    seconds = tuple(time_save(model, optimizer, path) for _ in range(repeats))
    size = os.path.getsize(path)
    os.remove(path)
    return SaveTiming(sum(p.numel() for p in model.parameters()), size, seconds)
