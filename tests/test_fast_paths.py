"""Every speed path computes what the plain path computes (float32, same weights, same noise)."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mae_mm  # noqa: F401
from mae_mm.engine.optim_wrapper import AutocastOptimWrapper, SkipNonFiniteOptimWrapper
from mae_mm.models.mae import random_masking
from mae_mm.models.vit import Attention
from mae_mm.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py')


def demo_cfg():
    init_default_scope('mae_mm')
    return Config.fromfile(DEMO)


def demo_model(**encoder):
    cfg = demo_cfg()
    cfg.model.encoder.update(encoder)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).train()


def batch(n=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.randint(0, 256, (n, 3, 64, 64), dtype=torch.uint8, generator=gen), data_samples=None)


def loss_of(model, data, noise):
    imgs = model.data_preprocessor(data, True)['inputs']
    return model.loss(imgs, noise)['loss']


def test_gather_masking_matches_a_per_sample_reference():
    gen = torch.Generator().manual_seed(0)
    x, noise = torch.randn(5, 49, 8, generator=gen), torch.rand(5, 49, generator=gen)
    visible, mask, ids_restore = random_masking(x, 0.75, noise)
    keep = int(49 * 0.25)
    for i in range(5):
        order = sorted(range(49), key=lambda j: noise[i, j].item())  # ascending noise
        assert torch.equal(visible[i], x[i, order[:keep]])
        assert torch.equal(mask[i], torch.tensor([0.0 if j in order[:keep] else 1.0 for j in range(49)]))
        assert [order[r] for r in ids_restore[i].tolist()] == list(range(49))  # restores the order


def test_one_gather_unshuffle_matches_a_per_sample_reference():
    model = demo_model()
    dec = model.decoder
    gen = torch.Generator().manual_seed(1)
    latent, noise = torch.randn(3, 1 + 16, 192, generator=gen), torch.rand(3, 64, generator=gen)
    ids_shuffle = noise.argsort(1)
    _, _, ids_restore = random_masking(torch.zeros(3, 64, 1), 0.75, noise)
    blocks, dec.blocks = dec.blocks, torch.nn.ModuleList()  # look at the token layout itself
    with torch.no_grad():
        out = dec(latent, ids_restore)
        emb = dec.embed(latent)
        for i in range(3):
            tokens = dec.mask_token[0].repeat(64, 1)
            tokens[ids_shuffle[i, :16]] = emb[i, 1:]  # the j-th kept patch goes back to its place
            ref = dec.pred(dec.norm(tokens + dec.pos_embed[0, 1:]))
            torch.testing.assert_close(out[i], ref, rtol=0, atol=1e-6)
    dec.blocks = blocks


def test_sdpa_matches_explicit_attention():
    model, data, noise = demo_model(), batch(), torch.rand(4, 64)
    fused = loss_of(model, data, noise)
    try:
        Attention.fused_attn = False
        plain = loss_of(model, data, noise)
    finally:
        Attention.fused_attn = True
    torch.testing.assert_close(fused, plain, rtol=0, atol=1e-5)


def test_activation_checkpointing_changes_nothing():
    data, noise = batch(), torch.rand(4, 64)
    plain = demo_model()
    ckpt = copy.deepcopy(plain)
    ckpt.encoder.with_checkpoint = ckpt.decoder.with_checkpoint = True
    grads = []
    for model in (plain, ckpt):
        loss = loss_of(model, data, noise)
        loss.backward()
        grads.append((loss.detach(), [p.grad for p in model.parameters() if p.requires_grad]))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=0, atol=1e-5)
    for a, b in zip(grads[0][1], grads[1][1]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_data_preprocessor_matches_mmpretrain():
    cfg = demo_cfg()
    ours = MODELS.build(cfg.model.data_preprocessor)
    args = {k: v for k, v in cfg.model.data_preprocessor.items() if k not in ('type', 'non_blocking')}
    theirs = MODELS.build(dict(type='mmpretrain.ClsDataPreprocessor', **args))
    data = batch()
    assert torch.equal(ours(data, True)['inputs'], theirs(data, True)['inputs'])


def train_losses(model, wrapper_cfg, steps=4, compile_step=False):
    """The losses of ``steps`` train steps with fixed data and masking noise.

    Steps 2.. see the parameters that the previous optimizer steps made, so the sequence
    pins the update as well as the forward. (The parameters themselves are not compared
    element-wise: Adam divides each gradient by its own running scale, which turns float32
    rounding differences of near-zero gradients, e.g. the attention key bias's, whose exact
    gradient is zero, into visible parameter differences without any effect on the loss.)
    """
    wrapper = build_optim_wrapper(model, wrapper_cfg)
    step = torch.compile(model.train_step) if compile_step else model.train_step  # mmengine's compile=True
    losses = []
    for i in range(steps):
        torch.manual_seed(100 + i)  # the masking noise of step i
        losses.append(step(batch(seed=i), optim_wrapper=wrapper)['loss'].detach())
    return torch.stack(losses)


def test_fused_adamw_matches_the_loop_implementation():
    cfg = demo_cfg()
    assert cfg.optim_wrapper.optimizer.fused is True  # the schedules' default
    model = demo_model()
    fused = train_losses(copy.deepcopy(model), cfg.optim_wrapper)
    loop = copy.deepcopy(cfg.optim_wrapper)
    loop.optimizer.update(fused=False, foreach=False)
    torch.testing.assert_close(fused, train_losses(model, loop), rtol=0, atol=1e-5)


def test_compiled_train_step_matches_eager_in_one_graph():
    from torch._dynamo.utils import counters
    cfg = demo_cfg()
    model = demo_model()
    eager = train_losses(copy.deepcopy(model), cfg.optim_wrapper)
    torch._dynamo.reset()
    counters.clear()
    # inductor draws torch.rand from its own generator unless told to use eager's
    with torch._inductor.config.patch(fallback_random=True):
        compiled = train_losses(model, cfg.optim_wrapper, compile_step=True)
    torch.testing.assert_close(eager, compiled, rtol=0, atol=1e-5)
    # one graph (preprocess + forward + loss), compiled once; the only break is the hand-off
    # to the eager backward + optimizer step
    assert counters['stats']['unique_graphs'] == 1, dict(counters['stats'])
    breaks = list(counters['graph_break'])
    assert len(breaks) == 1 and 'MaskedAutoencoder._update' in breaks[0], breaks
    assert not counters['recompiles'], dict(counters['recompiles'])


def test_bf16_autocast_wrapper_runs_no_grad_scaler():
    cfg = demo_cfg()
    model = demo_model()
    wrapper = build_optim_wrapper(model, dict(cfg.optim_wrapper, type='AutocastOptimWrapper', dtype='bfloat16'))
    assert isinstance(wrapper, AutocastOptimWrapper) and wrapper.loss_scaler is None
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu') and torch.get_autocast_dtype('cpu') is torch.bfloat16
    torch.manual_seed(0)
    bf16 = model.train_step(batch(), optim_wrapper=wrapper)['loss']
    torch.manual_seed(0)
    fp32 = loss_of(demo_model(), batch(), None)
    torch.testing.assert_close(bf16.detach(), fp32.detach(), rtol=2e-2, atol=0)  # bf16 tolerance
    state = wrapper.state_dict()
    assert 'loss_scaler' not in state
    wrapper.load_state_dict(dict(state, loss_scaler={'scale': 65536.0}))  # an AmpOptimWrapper checkpoint
    fp16 = build_optim_wrapper(demo_model(), dict(cfg.optim_wrapper, type='AutocastOptimWrapper', dtype='float16'))
    assert fp16.loss_scaler is not None


@pytest.mark.skipif(torch.cuda.is_available(), reason='the fallback is the no-GPU path')
def test_cpu_fallback_is_the_fp32_skip_nonfinite_wrapper():
    wrapper = build_optim_wrapper(demo_model(), demo_cfg().optim_wrapper)
    assert type(wrapper) is SkipNonFiniteOptimWrapper
