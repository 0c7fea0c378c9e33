"""Before/after timings of each speed lever of the MAE train step, one at a time.

    python tools/benchmark_levers.py [--arch base] [--batch 8] [--repeats 5] [--device cpu|cuda]

Each line times one lever off and on, on the same model, weights and inputs (median of
``--repeats`` runs after a warm-up, device synchronised, off and on taking turns):

- masking: the one-argsort + scatter inverse (ours) against the two-argsort version;
- attention: fused SDPA against the explicit softmax(q k^T) v, forward + backward;
- adamw: the optimizer step in its per-parameter loop, foreach and fused forms;
- checkpointing: forward + backward time and the activation memory autograd keeps;
- grad scaler (CUDA only): mmengine's AmpOptimWrapper (GradScaler under bf16) against our
  AutocastOptimWrapper (none), whole train step.
torch.compile is timed by tools/benchmark.py --compile.
"""
import argparse
import statistics
import time

import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mae_mm.models.mae import random_masking
from mae_mm.models.vit import Attention
from mae_mm.registry import MODELS
from mae_mm.runtime import setup_runtime


def timed(fns, device, repeats):
    """Median seconds of each of ``fns`` over ``repeats`` runs after one warm-up each.

    The functions take turns, so a change of machine load hits all of them alike.
    """
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, acc in zip(fns, times):
            if device == 'cuda':
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if device == 'cuda':
                torch.cuda.synchronize()
            acc.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def two_argsort_masking(x, mask_ratio, noise):
    """The masking before this lever: a second argsort inverts the shuffle."""
    b, length, dim = x.shape
    keep = int(length * (1 - mask_ratio))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :keep]
    visible = x.gather(1, ids_keep.unsqueeze(-1).expand(-1, -1, dim))
    mask = torch.ones(b, length, device=x.device, dtype=x.dtype).scatter_(1, ids_keep, 0.0)
    return visible, mask, ids_restore


def build(arch, device, **encoder):
    torch.manual_seed(0)
    cfg = dict(type='MaskedAutoencoder',
               data_preprocessor=dict(type='MAEDataPreprocessor'),
               encoder=dict(type='MAEEncoder', arch=arch, pretrain_img_size=224, **encoder),
               decoder=dict(type='MAEDecoder', embed_dim=512, depth=8, num_heads=16))
    return MODELS.build(cfg).to(device).train()


def saved_bytes(fn):
    """Bytes of the tensors autograd saves for backward during ``fn()`` (activation memory)."""
    total = [0]

    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, total[0]


def main():
    setup_runtime()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--arch', default='base')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    init_default_scope('mae_mm')
    dev, b = args.device, args.batch
    print(f'torch {torch.__version__}, {dev}, ViT-{args.arch}/16 MAE, batch {b}, 224 px, float32 unless said')

    def row(name, off, on, unit='ms'):
        print(f'| {name} | {off:.2f} {unit} | {on:.2f} {unit} | {off / on:.2f}x |')
    print('| lever | off | on | off / on |\n|---|---|---|---|')

    model = build(args.arch, dev)
    x = torch.randn(max(b, 64), 196, model.encoder.embed_dim, device=dev)
    noise = torch.rand(x.shape[:2], device=dev)
    row(f'masking, B={x.shape[0]} (two argsorts -> argsort + scatter)', *[1e3 * t for t in timed(
        [lambda: two_argsort_masking(x, 0.75, noise), lambda: random_masking(x, 0.75, noise)], dev, args.repeats)])

    imgs = torch.randn(b, 3, 224, 224, device=dev)
    noise = torch.rand(b, model.encoder.num_patches, device=dev)

    def fwd_bwd():
        model.zero_grad(set_to_none=True)
        model.loss(imgs, noise)['loss'].backward()
    def with_attention(fused):
        def run():
            Attention.fused_attn = fused
            fwd_bwd()
        return run
    times = timed([with_attention(False), with_attention(True)], dev, args.repeats)
    Attention.fused_attn = True
    row('attention, fwd + bwd (explicit -> SDPA)', 1e3 * times[0], 1e3 * times[1])

    fwd_bwd()  # gradients for the optimizer
    optimizers = [build_optim_wrapper(model, dict(type='LeanOptimWrapper', optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05, foreach=impl == 'foreach',
        fused=impl == 'fused'))).optimizer for impl in ('loop', 'foreach', 'fused')]
    loop, foreach, fused = timed([opt.step for opt in optimizers], dev, args.repeats)
    row('AdamW step (loop -> fused)', 1e3 * loop, 1e3 * fused)
    row('AdamW step (foreach -> fused)', 1e3 * foreach, 1e3 * fused)

    ckpt = build(args.arch, dev, with_checkpoint=True)
    ckpt.decoder.with_checkpoint = True
    mems = [saved_bytes(lambda: m.loss(imgs, noise)['loss'])[1] / 2 ** 20 for m in (model, ckpt)]
    times = timed([lambda m=m: m.loss(imgs, noise)['loss'].backward() for m in (model, ckpt)], dev, args.repeats)
    row('checkpointing: fwd + bwd time (off -> on)', 1e3 * times[0], 1e3 * times[1])
    row('checkpointing: saved activations (off -> on)', *mems, 'MiB')

    if dev == 'cuda':
        data = dict(inputs=torch.randint(0, 256, (b, 3, 224, 224), dtype=torch.uint8, device=dev))
        opt = dict(type='AdamW', lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05, fused=True)
        wrappers = [build_optim_wrapper(model, dict(type=t, dtype='bfloat16', optimizer=opt))
                    for t in ('AmpOptimWrapper', 'AutocastOptimWrapper')]
        row('bf16 train step (GradScaler -> none)', *[1e3 * t for t in timed(
            [lambda w=w: model.train_step(data, optim_wrapper=w) for w in wrappers], dev, args.repeats)])
    else:
        print('| bf16 train step (GradScaler -> none) | needs CUDA | | |')


if __name__ == '__main__':
    main()
