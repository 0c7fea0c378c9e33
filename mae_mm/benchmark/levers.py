"""Each speed lever of the MAE train step off and on, one at a time, on the same model, weights and inputs.

- masking: the one-argsort + scatter inverse (ours) against the two-argsort version;
- attention: fused SDPA against the explicit softmax(q k^T) v, forward + backward;
- adamw: the optimizer step in its per-parameter loop, foreach and fused forms;
- checkpointing: forward + backward time and the activation memory autograd keeps;
- grad scaler (CUDA only): mmengine's AmpOptimWrapper (GradScaler under bf16) against our
  AutocastOptimWrapper (none), whole train step.

Times are medians of ``repeats`` runs after a warm-up, device synchronised, off and on taking turns.
"""
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional

import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mae_mm.models.mae import random_masking
from mae_mm.models.vit import Attention
from mae_mm.registry import MODELS


@dataclass(frozen=True)
class Lever:
    """One lever's figure off and on (None: not measurable on this device)."""
    name: str
    off: Optional[float]
    on: Optional[float]
    unit: str = 'ms'

    @property
    def gain(self) -> float:
        """off / on: above 1 the lever helps."""
        return self.off / self.on


def timed(fns: List[Callable[[], object]], device: str, repeats: int) -> List[float]:
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
    """The masking before this lever: a second argsort inverts the shuffle.

    x: (B, L, D), noise: (B, L) -> visible (B, keep, D), mask (B, L), ids_restore (B, L).
    """
    b, length, dim = x.shape
    keep = int(length * (1 - mask_ratio))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :keep]
    visible = x.gather(1, ids_keep.unsqueeze(-1).expand(-1, -1, dim))
    mask = torch.ones(b, length, device=x.device, dtype=x.dtype).scatter_(1, ids_keep, 0.0)
    return visible, mask, ids_restore


def build(arch: str, device: str, **encoder):
    """An MAE of ``arch`` at 224 px with the paper's decoder, seeded, in train mode."""
    torch.manual_seed(0)
    cfg = dict(type='MaskedAutoencoder',
               data_preprocessor=dict(type='MAEDataPreprocessor'),
               encoder=dict(type='MAEEncoder', arch=arch, pretrain_img_size=224, **encoder),
               decoder=dict(type='MAEDecoder', embed_dim=512, depth=8, num_heads=16))
    return MODELS.build(cfg).to(device).train()


def saved_bytes(fn):
    """``fn()`` and the bytes of the tensors autograd saves for backward meanwhile (activation memory)."""
    total = [0]

    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, total[0]


def time_levers(arch: str = 'base', batch: int = 8, repeats: int = 5, device: str = 'cpu') -> Iterator[Lever]:
    """Each lever's figures, as they are measured (the masking at batch ``max(batch, 64)``)."""
    init_default_scope('mae_mm')
    ms = 1e3
    model = build(arch, device)
    x = torch.randn(max(batch, 64), 196, model.encoder.embed_dim, device=device)
    noise = torch.rand(x.shape[:2], device=device)
    yield Lever(f'masking, B={x.shape[0]} (two argsorts -> argsort + scatter)', *[ms * t for t in timed(
        [lambda: two_argsort_masking(x, 0.75, noise), lambda: random_masking(x, 0.75, noise)], device, repeats)])

    imgs = torch.randn(batch, 3, 224, 224, device=device)
    noise = torch.rand(batch, model.encoder.num_patches, device=device)

    def fwd_bwd():
        model.zero_grad(set_to_none=True)
        model.loss(imgs, noise)['loss'].backward()

    def with_attention(fused):
        def run():
            Attention.fused_attn = fused
            fwd_bwd()
        return run
    times = timed([with_attention(False), with_attention(True)], device, repeats)
    Attention.fused_attn = True
    yield Lever('attention, fwd + bwd (explicit -> SDPA)', ms * times[0], ms * times[1])

    fwd_bwd()  # gradients for the optimizer
    optimizers = [build_optim_wrapper(model, dict(type='SkipNonFiniteOptimWrapper', optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05, foreach=impl == 'foreach',
        fused=impl == 'fused'))).optimizer for impl in ('loop', 'foreach', 'fused')]
    loop, foreach, fused = timed([opt.step for opt in optimizers], device, repeats)
    yield Lever('AdamW step (loop -> fused)', ms * loop, ms * fused)
    yield Lever('AdamW step (foreach -> fused)', ms * foreach, ms * fused)

    ckpt = build(arch, device, with_checkpoint=True)
    ckpt.decoder.with_checkpoint = True
    mems = [saved_bytes(lambda: m.loss(imgs, noise)['loss'])[1] / 2 ** 20 for m in (model, ckpt)]
    times = timed([lambda m=m: m.loss(imgs, noise)['loss'].backward() for m in (model, ckpt)], device, repeats)
    yield Lever('checkpointing: fwd + bwd time (off -> on)', ms * times[0], ms * times[1])
    yield Lever('checkpointing: saved activations (off -> on)', *mems, 'MiB')

    name = 'bf16 train step (GradScaler -> none)'
    if device != 'cuda':
        yield Lever(name, None, None)
        return
    data = dict(inputs=torch.randint(0, 256, (batch, 3, 224, 224), dtype=torch.uint8, device=device))
    opt = dict(type='AdamW', lr=1e-4, betas=(0.9, 0.95), weight_decay=0.05, fused=True)
    wrappers = [build_optim_wrapper(model, dict(type=t, dtype='bfloat16', optimizer=opt))
                for t in ('AmpOptimWrapper', 'AutocastOptimWrapper')]
    yield Lever(name, *[ms * t for t in timed(
        [lambda w=w: model.train_step(data, optim_wrapper=w) for w in wrappers], device, repeats)])
