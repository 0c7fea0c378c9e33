"""Times the train step of a pretraining, fine-tuning, COCO or ADE20K config: img/s and peak memory.

    python tools/benchmark.py CONFIG [--batch N] [--steps K] [--windows W] [--amp bf16|fp16|none]
                                     [--compile] [--fused] [--vs-mmpretrain | --vs-mmseg]
                                     [--data synthetic|jpeg]

One step is the config's whole ``model.train_step`` (data preprocessor, forward, backward,
optimizer step through its optimizer wrapper). The figure is the median over W timed windows
of K steps, after warm-up, with the device synchronised at each window's ends; with
``--vs-mmpretrain`` both models stay resident and their windows alternate, so both see the
same machine state (peak memory is still each model's own, see ``Contender``).
``--data synthetic`` feeds one pre-made uint8 batch already on the device, with the task's labels
(a class per image; a class map of 32 x 32 blocks for UperNet; eight boxes with their masks per
image for Mask R-CNN); ``--data jpeg`` (pretraining and fine-tuning configs)
makes ImageNet-sized JPEGs (500 x 375, ~110 KB) and runs the config's own train pipeline
through a DataLoader (``--workers``, pinned memory); with a GPU-decode config the workers
only read bytes and the data preprocessor decodes on the device.

Our model runs under the config's optimizer (fused AdamW in the pretraining schedules) and
this package's wrappers: ``AutocastOptimWrapper`` for ``--amp`` (no GradScaler under bf16),
``LeanOptimWrapper`` without. ``--compile`` does what mmengine's ``compile=True`` does:
``model.train_step = torch.compile(model.train_step)`` (for models that keep mmengine's
default train_step, whose compilation fails inside the optimizer step on torch 2.14, only
``forward`` is compiled; the output says which).

``--vs-mmpretrain`` also times mmpretrain's model at the same size, batch, precision,
optimizer and compile setting (for pretraining configs its MAE; for fine-tuning configs the
same classifier with mmpretrain's VisionTransformer as backbone), under mmengine's own wrapper as an
mmpretrain config has it (``AmpOptimWrapper``, which runs a GradScaler even under bf16), with
``forward`` compiled. ``--vs-mmseg`` does the same for an UperNet config with mmseg's own MAE
backbone (BEiT-style, relative position bias, layer scale 1.0) and ``Feature2Pyramid`` at the
same sizes, under mmseg's ``LayerDecayOptimizerConstructor``. SyncBN is reverted to BN in both, as
mmengine's runner does in one process.
"""
import argparse
import contextlib
import io
import logging
import os
import os.path as osp
import resource
import statistics
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mae_mm.models.vit import resolve_arch
from mae_mm.registry import MODELS
from mae_mm.runtime import setup_runtime
from benchmark_batches import image_size, synthetic_batches, task_of  # tools/ is this script's directory


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, help='images per step (default: the config\'s per-GPU batch)')
    parser.add_argument('--steps', type=int, default=10, help='steps per timed window')
    parser.add_argument('--windows', type=int, default=5, help='timed windows (the median is reported)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    parser.add_argument('--amp', choices=['bf16', 'fp16', 'none'], default=None,
                        help='autocast dtype (default on CUDA: bf16, fp16 for Mask R-CNN, whose mmcv RoIAlign '
                             'has no bf16 kernel; none on CPU)')
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--fused', action='store_true', help='fused AdamW in both models (pretraining has it)')
    versus = parser.add_mutually_exclusive_group()
    versus.add_argument('--vs-mmpretrain', action='store_true', help='pretraining and fine-tuning configs')
    versus.add_argument('--vs-mmseg', action='store_true', help='ADE20K UperNet configs')
    parser.add_argument('--data', choices=['synthetic', 'jpeg'], default='synthetic')
    parser.add_argument('--workers', type=int, default=8, help='DataLoader workers with --data jpeg')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    if args.amp not in (None, 'none') and not args.device.startswith('cuda'):
        parser.error('--amp needs a CUDA device (mmengine\'s AmpOptimWrapper)')
    return args


def optim_wrapper_cfg(cfg, amp, ours=True):
    """The config's optimizer under our wrappers, or (``ours=False``) under mmengine's with the
    reference toolbox's layer-decay constructor."""
    wrapper = cfg.optim_wrapper.copy()
    if amp == 'none':
        wrapper.type = 'mae_mm.LeanOptimWrapper' if ours else 'OptimWrapper'
        for key in ('dtype', 'loss_scale'):
            wrapper.pop(key, None)
    else:
        wrapper.type = 'mae_mm.AutocastOptimWrapper' if ours else 'AmpOptimWrapper'
        wrapper.dtype = dict(bf16='bfloat16', fp16='float16')[amp]
    if not ours and 'ViTLayerDecay' in wrapper.get('constructor', ''):
        # ours reads our ViT's parameter names; the reference toolboxes' configs use their own
        decay = wrapper.paramwise_cfg.get('layer_decay_rate', 0.65)
        if task_of(cfg) == 'segment':
            depth = resolve_arch(cfg.model.backbone.arch)['depth']
            wrapper.constructor = 'mmseg.LayerDecayOptimizerConstructor'
            wrapper.paramwise_cfg = dict(num_layers=depth, layer_decay_rate=decay)
        else:
            wrapper.constructor = 'mmpretrain.LearningRateDecayOptimWrapperConstructor'
            wrapper.paramwise_cfg = dict(layer_decay_rate=decay, custom_keys={
                key: dict(decay_mult=0.0) for key in ('.ln', '.bias', '.cls_token', '.pos_embed')})
    return wrapper


def jpeg_batches(cfg, batch, workers, folder):
    from benchmark_data import make_jpegs  # tools/ is this script's directory
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


def compile_model(model, whole_step):
    """mmengine's compile=True (``train_step``) where the model's own train_step allows it."""
    from mmengine.model import BaseModel
    if whole_step and type(model).train_step is not BaseModel.train_step:
        model.train_step = torch.compile(model.train_step)
        return 'train_step'
    model.forward = torch.compile(model.forward)
    return 'forward'


class Contender:
    """One model's train step, compiled and warmed up, with its own peak memory.

    Built one after the other: on CUDA a contender's peak is the peak allocated while it
    was built and warmed up, minus what the contenders before it still hold.
    """

    def __init__(self, label, build_model, wrapper_cfg, batches, args, whole_step=True):
        cuda = args.device.startswith('cuda')
        if cuda:
            held = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        self.label, self.args, self.batches = label, args, batches
        self.model = build_model().to(args.device).train()
        with contextlib.redirect_stdout(io.StringIO()):  # mmseg's constructor prints every parameter's group
            self.wrapper = build_optim_wrapper(self.model, wrapper_cfg)
        compiled = compile_model(self.model, whole_step) if args.compile else 'nothing'
        fused = 'fused' if self.wrapper.optimizer.defaults.get('fused') else 'unfused'
        print(f'{label}: {type(self.wrapper).__name__}, {fused} {type(self.wrapper.optimizer).__name__}, '
              f'compiled: {compiled}')
        for _ in range(args.warmup):
            self.step()
        sync(args.device)
        if cuda:
            self.memory = f'{(torch.cuda.max_memory_allocated() - held) / 2 ** 30:.2f} GiB peak allocated'
        else:
            self.memory = None  # RSS is per process: read at the end
        self.rates = []

    def step(self):
        self.model.train_step(next(self.batches), optim_wrapper=self.wrapper)

    def window(self):
        args = self.args
        sync(args.device)
        start = time.perf_counter()
        for _ in range(args.steps):
            self.step()
        sync(args.device)
        self.rates.append(args.batch * args.steps / (time.perf_counter() - start))

    def report(self):
        args = self.args
        memory = self.memory or \
            f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20:.2f} GiB peak RSS (process)'
        rate = statistics.median(self.rates)
        shown = f'{rate:.1f}' if rate >= 1 else f'{rate:.3f}'
        print(f'{self.label}: {shown} img/s (median of {args.windows} x {args.steps} steps, batch {args.batch}, '
              f'amp {args.amp}, compile {args.compile}, data {args.data}), {memory}')
        return rate


def mmpretrain_mae(cfg):
    """mmpretrain's MAE at our config's sizes."""
    enc, dec = cfg.model.encoder, cfg.model.decoder
    arch = resolve_arch(enc.arch)
    patch = enc.get('patch_size') or arch['patch_size']
    size = image_size(cfg)
    grid = (size[0] // patch) * (size[1] // patch)
    return MODELS.build(dict(
        type='mmpretrain.MAE',
        data_preprocessor=dict(type='mmpretrain.SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=True),
        backbone=dict(type='mmpretrain.MAEViT', img_size=size, patch_size=patch, mask_ratio=enc.get('mask_ratio', 0.75),
                      arch=dict(embed_dims=arch['embed_dim'], num_layers=arch['depth'], num_heads=arch['num_heads'],
                                feedforward_channels=int(arch['embed_dim'] * arch['mlp_ratio']))),
        neck=dict(type='mmpretrain.MAEPretrainDecoder', patch_size=patch, in_chans=3, embed_dim=arch['embed_dim'],
                  decoder_embed_dim=dec.get('embed_dim', 512), decoder_depth=dec.get('depth', 8),
                  decoder_num_heads=dec.get('num_heads', 16), mlp_ratio=4.0, num_patches=grid),
        head=dict(type='mmpretrain.MAEPretrainHead', norm_pix=True, patch_size=patch,
                  loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2'))))


def mmpretrain_classifier(cfg):
    """The fine-tuning config's classifier with mmpretrain's ViT in place of ours (same sizes)."""
    model = cfg.model.copy()
    ours = model.backbone
    arch = resolve_arch(ours.arch)
    model.backbone = dict(
        type='mmpretrain.VisionTransformer', img_size=image_size(cfg),
        patch_size=ours.get('patch_size') or arch['patch_size'], drop_path_rate=ours.get('drop_path_rate', 0.0),
        out_type=ours.get('out_type', 'avg_featmap'), final_norm=False,  # avg pool + fc_norm, as the paper
        arch=dict(embed_dims=arch['embed_dim'], num_layers=arch['depth'], num_heads=arch['num_heads'],
                  feedforward_channels=int(arch['embed_dim'] * arch['mlp_ratio'])))
    return MODELS.build(model)


def mmseg_upernet(cfg):
    """The UperNet config's segmentor with mmseg's MAE backbone and Feature2Pyramid (same sizes)."""
    model = cfg.model.copy()
    ours = model.backbone
    arch = resolve_arch(ours.arch)
    model.backbone = dict(
        type='mmseg.MAE', img_size=image_size(cfg), patch_size=ours.get('patch_size') or arch['patch_size'],
        embed_dims=arch['embed_dim'], num_layers=arch['depth'], num_heads=arch['num_heads'],
        mlp_ratio=int(arch['mlp_ratio']), out_indices=list(ours.out_indices),
        drop_path_rate=ours.get('drop_path_rate', 0.0), norm_cfg=dict(type='LN', eps=1e-6), init_values=1.0)
    model.neck = dict(type='mmseg.Feature2Pyramid', embed_dim=model.neck.embed_dim, rescales=model.neck.rescales,
                      norm_cfg=model.neck.get('norm_cfg', dict(type='SyncBN', requires_grad=True)))
    return MODELS.build(model)


def reference(cfg):
    """(toolbox, builder) of the config's counterpart in mmpretrain or mmseg, or (None, None)."""
    task = task_of(cfg)
    if task == 'pretrain':
        return 'mmpretrain', lambda: mmpretrain_mae(cfg)
    if task == 'classify' and 'ViTClsBackbone' in cfg.model.backbone.type:
        return 'mmpretrain', lambda: mmpretrain_classifier(cfg)
    if task == 'segment' and 'SegViTBackbone' in cfg.model.backbone.type:
        return 'mmseg', lambda: mmseg_upernet(cfg)
    return None, None


def main():
    setup_runtime()
    args = parse_args()
    MMLogger.get_instance('benchmark', log_level=logging.WARNING)  # no per-parameter optimizer lines
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    args.batch = args.batch or cfg.train_dataloader.batch_size
    if args.amp is None:
        args.amp = ('fp16' if task_of(cfg) == 'detect' else 'bf16') if args.device.startswith('cuda') else 'none'
    if args.fused:
        cfg.optim_wrapper.optimizer.fused = True
    print(f'torch {torch.__version__}, device {args.device}'
          + (f' ({torch.cuda.get_device_name()})' if args.device.startswith('cuda') else f' ({os.cpu_count()} cores)'))

    def batches():
        if args.data == 'synthetic':
            return synthetic_batches(cfg, args.batch, args.device)
        return jpeg_batches(cfg, args.batch, args.workers, osp.join(tempfile.gettempdir(), 'mae_mm_bench_jpegs'))

    toolbox, build_reference = reference(cfg)
    wanted = 'mmpretrain' if args.vs_mmpretrain else 'mmseg' if args.vs_mmseg else None
    if wanted and toolbox != wanted:
        raise SystemExit(f'--vs-{wanted}: {args.config} has no {wanted} counterpart here (--vs-mmpretrain takes '
                         'pretraining and fine-tuning configs, --vs-mmseg ADE20K UperNet configs)')
    if args.data == 'jpeg' and task_of(cfg) in ('segment', 'detect'):
        raise SystemExit(f'--data jpeg: {args.config} needs annotations; use --data synthetic')

    def build(builder):
        return lambda: revert_sync_batchnorm(builder())  # one process: BN, as mmengine's runner does

    runs = [Contender('mae_mm', build(lambda: MODELS.build(cfg.model)), optim_wrapper_cfg(cfg, args.amp), batches(),
                      args)]
    if wanted:
        runs.append(Contender(wanted, build(build_reference), optim_wrapper_cfg(cfg, args.amp, ours=False),
                              batches(), args, whole_step=False))
    for _ in range(args.windows):  # alternating windows: both see the same machine load
        for run in runs:
            run.window()
    rates = [run.report() for run in runs]
    if wanted:
        print(f'ratio mae_mm / {wanted}: {rates[0] / rates[1]:.3f}')


if __name__ == '__main__':
    main()
