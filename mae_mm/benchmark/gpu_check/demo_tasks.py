"""Row 2: a few iterations of each demo task (pretrain, fine-tune, linear probe, COCO, ADE20K) through
``tools/train.py``'s code, under mixed precision on CUDA: every logged loss finite, and the loss moves."""
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
from typing import List

from .. import ROOT
from .configs import DEMO_TASKS
from .parts import Context, attempt, free_memory, part


def logged_losses(work_dir: str) -> List[float]:
    """The ``loss`` of every logged iteration in the run's scalars.json (LocalVisBackend)."""
    paths = sorted(osp.join(d, f) for d, _, fs in os.walk(work_dir) for f in fs if f == 'scalars.json')
    if not paths:
        raise FileNotFoundError(f'no scalars.json under {work_dir}: the run logged no iteration')
    with open(paths[-1]) as f:
        return [json.loads(line)['loss'] for line in f if '"loss"' in line]


def train_argv(ctx: Context, config: str, amp: str, work_dir: str, iters: int) -> List[str]:
    """``tools/train.py`` arguments for ``iters`` logged iterations of ``config`` at its base lr: no lr
    schedule (a warmup longer than the run is refused), no validation, no checkpoint, no pretrained
    weights; ``--amp`` on CUDA."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    options = ['param_scheduler=[]', 'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1000000']
    if 'backbone' in cfg.model:
        options.append('model.backbone.init_cfg=None')  # no demo pretraining checkpoint needed
    if 'max_iters' in cfg.train_cfg:
        options += [f'train_cfg.max_iters={iters}', 'train_cfg.val_interval=1000000']
    else:  # one epoch of `iters` batches
        options += ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1000000',
                    f'train_dataloader.dataset.indices={iters * cfg.train_dataloader.batch_size}']
    if ctx.smoke:
        options += ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']
    return [osp.join(ROOT, config), '--work-dir', work_dir] + (['--amp', amp] if ctx.cuda else []) + \
        ['--cfg-options', *options]


def train_task(ctx: Context, name: str, config: str, amp: str) -> dict:
    """One demo task trained in this process; its losses as a part."""
    from mae_mm.launch.train import main as train
    work_dir = osp.join(ctx.out, 'demo_tasks', name)
    argv = train_argv(ctx, config, amp, work_dir, iters=2 if ctx.smoke else 6)
    start = time.perf_counter()
    code = train(argv)
    if code:
        raise RuntimeError(f'tools/train.py ended with exit status {code}')
    seconds = time.perf_counter() - start
    losses = logged_losses(work_dir)
    finite = bool(losses) and all(math.isfinite(v) for v in losses)
    moved = len(losses) >= 2 and losses[-1] != losses[0]
    precision = amp if ctx.cuda else 'fp32'
    shown = ', '.join(f'{v:.5g}' for v in losses)
    return part(name, finite and moved, f'{name}: {len(losses)} it {precision}, loss {shown}'
                + ('' if finite else ' NOT FINITE') + ('' if moved else ' (does not move)'),
                losses=losses, precision=precision, seconds=round(seconds, 1))


def row_demo_tasks(ctx: Context):
    """One part per demo task (the demo data made first if missing)."""
    if not osp.isdir(osp.join(ROOT, 'data', 'demo', 'coco')):
        subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'make_demo_data.py'), '--out', 'data/demo'],
                       cwd=ROOT, check=True, stdout=sys.stdout, stderr=sys.stderr)
    for name, config, amp in DEMO_TASKS:
        yield attempt(name, lambda: train_task(ctx, name, config, amp))
        free_memory(ctx)
