"""The encoder's mask tokens (Table 1c), the partial decoder (decode_fraction) and non-square grids, each
against a direct computation written here; the tiny demo pretraining with each option through tools/train.py."""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

import mae_mm  # noqa: F401
from conftest import read_scalars
from mae_mm.models import MAEDecoder, MaskedAutoencoder
from mae_mm.models.vit import patchify, sincos_2d_table
from reliability_utils import derived_config, run, short_schedule


def tiny_mae(img=32, encoder=None, decoder=None):
    enc = dict(type='MAEEncoder', arch='tiny', pretrain_img_size=img, patch_size=8, mask_ratio=0.75, **(encoder or {}))
    dec = dict(type='MAEDecoder', embed_dim=64, depth=2, num_heads=4, **(decoder or {}))
    return MaskedAutoencoder(encoder=enc, decoder=dec, loss=dict(type='MaskedPixelLoss', norm_pix=True))


def blocks_by_hand(blocks, x):
    """(B, N, D) through pre-norm blocks written out: softmax(q k^T / sqrt(d)) v per head, then the MLP."""
    for blk in blocks:
        b, n, d = x.shape
        heads = blk.attn.num_heads
        q, k, v = blk.attn.qkv(blk.norm1(x)).reshape(b, n, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) / math.sqrt(d // heads)).softmax(-1) @ v  # (B, heads, N, d / heads)
        x = x + blk.attn.proj(attn.transpose(1, 2).reshape(b, n, d))
        x = x + blk.mlp.fc2(F.gelu(blk.mlp.fc1(blk.norm2(x))))
    return x


def mask_from(noise, keep):
    """(B, L) noise -> (B, L) mask, 0 for the ``keep`` patches of smallest noise."""
    return torch.ones_like(noise).scatter_(1, noise.argsort(1)[:, :keep], 0.0)


def norm_pix(imgs, p):
    t = patchify(imgs, p)
    return (t - t.mean(-1, keepdim=True)) / (t.var(-1, keepdim=True) + 1e-6).sqrt()


# --- encoder mask tokens (Table 1c) ----------------------------------------------------------------------------------

def test_encoder_mask_tokens_match_substitution_then_positions_then_all_blocks():
    torch.manual_seed(0)
    model = tiny_mae(encoder=dict(with_mask_token=True))
    enc, dec = model.encoder, model.decoder
    imgs, noise = torch.randn(2, 3, 32, 32), torch.rand(2, 16)
    latent, mask, _ = enc(imgs, noise)
    expected_mask = mask_from(noise, 4)
    assert torch.equal(mask, expected_mask)
    with torch.no_grad():
        tokens = F.conv2d(imgs, enc.patch_embed.proj.weight, enc.patch_embed.proj.bias, stride=8)
        tokens = tokens.flatten(2).transpose(1, 2)  # (B, L, D), row-major patches, no positions
        tokens = torch.where(expected_mask[..., None] > 0, enc.mask_token.expand(2, 16, -1), tokens)
        x = torch.cat([enc.cls_token.expand(2, -1, -1), tokens], 1) + enc.pos_embed  # cls row of the table: 0
        by_hand = enc.norm(blocks_by_hand(enc.blocks, x))
        assert latent.shape == (2, 17, 192)
        torch.testing.assert_close(latent, by_hand, rtol=0, atol=1e-5)
        # the decoder takes the whole sequence: no unshuffle, no mask token of its own
        pred, _ = model.reconstruct(imgs, noise)
        x = blocks_by_hand(dec.blocks, dec.embed(by_hand) + dec.pos_embed)
        torch.testing.assert_close(pred, dec.pred(dec.norm(x[:, 1:])), rtol=0, atol=1e-5)
    assert dec.takes_all_tokens and not hasattr(dec, 'mask_token')


def test_new_parameters_exist_only_with_their_option():
    default = set(tiny_mae().state_dict())
    with_tokens = set(tiny_mae(encoder=dict(with_mask_token=True)).state_dict())
    assert 'decoder.mask_token' in default and 'encoder.mask_token' not in default
    assert with_tokens == default - {'decoder.mask_token'} | {'encoder.mask_token'}
    assert set(tiny_mae(decoder=dict(decode_fraction=0.5)).state_dict()) == default


@pytest.mark.parametrize('img,encoder,decoder', [
    (32, dict(with_mask_token=True), {}),
    (32, {}, dict(decode_fraction=0.5)),
    (32, dict(with_mask_token=True), dict(decode_fraction=0.25)),
    ((64, 96), {}, {}),
    ((64, 96), dict(with_mask_token=True), dict(decode_fraction=0.5)),
], ids=['mask-tokens', 'partial', 'both', 'non-square', 'non-square-both'])
def test_every_trainable_parameter_gets_a_gradient_in_each_mode(img, encoder, decoder):
    torch.manual_seed(0)
    model = tiny_mae(img, encoder, decoder).train()
    h, w = (img, img) if isinstance(img, int) else img
    loss = model.loss(torch.randn(2, 3, h, w))['loss']
    assert torch.isfinite(loss)
    loss.backward()
    assert {n for n, p in model.named_parameters() if not p.requires_grad} == {'encoder.pos_embed', 'decoder.pos_embed'}
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, f'{name} got no gradient'


# --- the partial decoder (decode_fraction) ---------------------------------------------------------------------------

@pytest.mark.parametrize('with_mask_token', [False, True], ids=['dropped', 'encoder-mask-tokens'])
def test_partial_decoder_equals_its_layers_on_the_visible_and_picked_masked_tokens(with_mask_token):
    torch.manual_seed(0)
    model = tiny_mae(encoder=dict(with_mask_token=with_mask_token), decoder=dict(decode_fraction=0.5)).train()
    dec = model.decoder
    imgs, noise = torch.randn(3, 3, 32, 32), torch.rand(3, 16)
    torch.manual_seed(7)
    pred, loss_mask = model.reconstruct(imgs, noise, partial=True)
    latent, mask, ids_restore = model.encoder(imgs, noise)
    assert pred.shape == (3, 16, 192)
    assert loss_mask.sum(1).tolist() == [6.0] * 3  # M = int(0.5 * 12) of the 12 masked patches
    assert (loss_mask <= mask).all()
    decoded = (mask == 0) | (loss_mask > 0)  # the 4 visible and the 6 picked
    with torch.no_grad():
        for i in range(3):
            ids = decoded[i].nonzero()[:, 0]  # patch order: attention does not care about the order
            emb = dec.embed(latent[i])
            if with_mask_token:
                tokens = emb[1 + ids]
            else:  # visible patch j: the encoder's token of rank ids_restore[j]; masked: the mask token
                tokens = torch.stack([emb[1 + ids_restore[i, j]] if mask[i, j] == 0 else dec.mask_token[0, 0]
                                      for j in ids.tolist()])
            x = torch.cat([emb[:1] + dec.pos_embed[0, :1], tokens + dec.pos_embed[0, 1 + ids]])[None]
            by_hand = dec.pred(dec.norm(blocks_by_hand(dec.blocks, x)[0, 1:]))
            torch.testing.assert_close(pred[i, ids], by_hand, rtol=0, atol=1e-5)
            assert (pred[i, ~decoded[i]] == 0).all()
    # the loss covers exactly the decoded masked patches, with the same draw
    per_patch = ((pred - norm_pix(imgs, 8)) ** 2).mean(-1)
    torch.manual_seed(7)
    loss = model.loss(imgs, noise)['loss']
    torch.testing.assert_close(loss, (per_patch * loss_mask).sum() / 18)


@pytest.mark.parametrize('fraction,decoded', [(1.0, 48), (0.5, 24), (0.25, 12), (0.3, 14), (0.01, 1)])
def test_decoded_counts_follow_the_rule_and_the_visible_come_first(fraction, decoded):
    """L = 64, K = 16 (the demo's grid): M = max(1, int(fraction * 48)) masked patches per sample."""
    dec = MAEDecoder(grid_size=(8, 8), patch_size=8, in_dim=32, embed_dim=32, depth=1, num_heads=2,
                     decode_fraction=fraction)
    noise = torch.rand(5, 64)
    ids_shuffle = noise.argsort(1)
    ids_restore = ids_shuffle.argsort(1)
    torch.manual_seed(1)
    ids = dec.decoded_ids(ids_restore, 16)
    assert ids.shape == (5, 16 + decoded) and dec.num_decoded(48) == decoded
    assert torch.equal(ids[:, :16], ids_shuffle[:, :16])  # the visible, in the encoder's order
    for row, order in zip(ids.tolist(), ids_shuffle.tolist()):
        assert len(set(row)) == len(row) and set(row[16:]) <= set(order[16:])  # distinct masked patches
    torch.manual_seed(1)
    assert torch.equal(dec.decoded_ids(ids_restore, 16), ids)  # drawn from the default generator


def test_decode_fraction_one_is_the_exact_full_path_and_draws_nothing():
    torch.manual_seed(0)
    model = tiny_mae().train()
    imgs, noise = torch.randn(2, 3, 32, 32), torch.rand(2, 16)
    state = torch.get_rng_state()
    full = model.reconstruct(imgs, noise)
    partial = model.reconstruct(imgs, noise, partial=True)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(full[0], partial[0]) and torch.equal(full[1], partial[1])


def test_evaluation_and_tensor_mode_decode_every_patch():
    torch.manual_seed(0)
    full = tiny_mae()
    part = tiny_mae(decoder=dict(decode_fraction=0.25))
    part.load_state_dict(full.state_dict())
    imgs, noise = torch.randn(2, 3, 32, 32), torch.rand(2, 16)
    full.eval()
    part.eval()
    assert torch.equal(part.loss(imgs, noise)['loss'], full.loss(imgs, noise)['loss'])
    assert [s.recon_loss for s in part(imgs, mode='predict')] == [s.recon_loss for s in full(imgs, mode='predict')]
    part.train()
    pred, mask = part(imgs, mode='tensor')
    assert (pred.abs().sum(-1) > 0).all() and mask.sum(1).tolist() == [12.0, 12.0]
    assert not torch.equal(part.loss(imgs, noise)['loss'], full.loss(imgs, noise)['loss'])  # training: partial


# --- non-square grids ------------------------------------------------------------------------------------------------

def test_non_square_pretraining_has_grid_tables_and_exact_masked_counts():
    torch.manual_seed(0)
    model = tiny_mae((64, 96))  # 8 x 12 patches of 8 px
    assert model.encoder.grid_size == (8, 12) and model.decoder.grid_size == (8, 12)
    assert torch.equal(model.encoder.pos_embed, sincos_2d_table(192, (8, 12))[None])
    assert torch.equal(model.decoder.pos_embed, sincos_2d_table(64, (8, 12))[None])
    imgs, noise = torch.randn(2, 3, 64, 96), torch.rand(2, 96)
    pred, mask = model.reconstruct(imgs, noise)
    assert pred.shape == (2, 96, 192)
    assert mask.sum(1).tolist() == [72.0, 72.0]  # 96 - int(96 * 0.25)
    assert torch.equal(mask, mask_from(noise, 24))
    loss = model.loss(imgs, noise)['loss']
    torch.testing.assert_close(loss, (((pred - norm_pix(imgs, 8)) ** 2).mean(-1) * mask).sum() / 144)


def test_derived_decoder_keys_are_checked_and_old_num_patches_still_reads():
    enc = dict(type='MAEEncoder', arch='tiny', pretrain_img_size=(64, 96), patch_size=8)
    dec = dict(type='MAEDecoder', embed_dim=64, depth=1, num_heads=4)
    assert MaskedAutoencoder(encoder=enc, decoder=dict(dec, num_patches=96)).decoder.grid_size == (8, 12)
    assert MaskedAutoencoder(encoder=enc, decoder=dict(dec, grid_size=[8, 12])).decoder.grid_size == (8, 12)
    with pytest.raises(ValueError, match=r'model.decoder.num_patches=64 is inconsistent with the encoder '
                                         r'\(num_patches=96\)'):
        MaskedAutoencoder(encoder=enc, decoder=dict(dec, num_patches=64))
    with pytest.raises(ValueError, match=r'model.decoder.grid_size=\(12, 8\) is inconsistent .*grid_size=\(8, 12\)'):
        MaskedAutoencoder(encoder=enc, decoder=dict(dec, grid_size=(12, 8)))
    with pytest.raises(ValueError, match=r'model.decoder.takes_all_tokens=True is inconsistent with the encoder '
                                         r'\(with_mask_token=False\)'):
        MaskedAutoencoder(encoder=enc, decoder=dict(dec, takes_all_tokens=True))
    with pytest.raises(TypeError, match=r"'num_patches' is no longer an argument: .*grid_size=\(h, w\)"):
        MAEDecoder(num_patches=64, patch_size=8, in_dim=32)
    with pytest.raises(TypeError, match=r"MAEDecoder needs \['grid_size'\]"):
        MAEDecoder(patch_size=8, in_dim=32)


@pytest.mark.parametrize('decoder,encoder,error,message', [
    (dict(decode_fraction=0.0), {}, ValueError, r'decode_fraction must lie in \(0, 1\], got 0.0'),
    (dict(decode_fraction=1.5), {}, ValueError, r'decode_fraction must lie in \(0, 1\], got 1.5'),
    ({}, dict(with_mask_token='yes'), TypeError, r"with_mask_token must be True or False, got 'yes'"),
], ids=['fraction-0', 'fraction-1.5', 'mask-token-not-bool'])
def test_bad_options_are_refused_at_build(decoder, encoder, error, message):
    with pytest.raises(error, match=message):
        tiny_mae(encoder=encoder, decoder=decoder)


# --- the demo pretraining through tools/train.py ---------------------------------------------------------------------

# the three options at once on 64 x 96 inputs (8 x 12 patches): 32 images, batch 16, 3 epochs of 2 iterations; the
# reconstruction panel of 4 val images at the end (every patch decoded), the kNN probe left out
SHORT_RUN = """
model = dict(encoder=dict(pretrain_img_size=(64, 96), with_mask_token=True), decoder=dict(decode_fraction=0.25))
crop = dict(type='mmpretrain.RandomResizedCrop', scale=(64, 96), crop_ratio_range=(0.2, 1.0), backend='pillow',
            interpolation='bicubic')  # scale: (h, w)
test_pipeline = [dict(type='LoadCheckedImage'), dict(type='mmpretrain.ResizeEdge', scale=110, edge='short'),
                 dict(type='mmpretrain.CenterCrop', crop_size=(96, 64)), dict(type='mmpretrain.PackInputs')]  # (w, h)
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False, dataset=dict(
    indices=32, pipeline=[dict(type='LoadCheckedImage'), crop, dict(type='RandomFlip', prob=0.5),
                          dict(type='mmpretrain.PackInputs')]))
val_dataloader = dict(num_workers=0, dataset=dict(indices=16, pipeline=test_pipeline))
train_cfg = dict(max_epochs=3, val_interval=3)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=3))
log_processor = dict(window_size=1)
custom_hooks = [h for h in custom_hooks if h['type'] != 'mae_mm.KNNProbeHook']
""" + short_schedule(3)


@pytest.mark.slow
def test_demo_pretraining_learns_with_the_options_on_non_square_inputs(demo_data, tmp_path):
    cfg = derived_config(tmp_path, 'short', SHORT_RUN)
    work_dir = str(tmp_path / 'run')
    run('tools/train.py', cfg, '--work-dir', work_dir, threads=1)  # one thread: the fastest on a shared CPU
    records = read_scalars(work_dir)
    losses = [r['loss'] for r in sorted(records, key=lambda r: r['step']) if 'loss' in r]
    assert len(losses) == 6 and all(math.isfinite(v) for v in losses), losses
    assert sum(losses[-2:]) < 0.8 * sum(losses[:2]), losses
    assert any(k.startswith('recon/') for r in records for k in r)  # validated: every patch decoded
    panels = glob.glob(osp.join(work_dir, '*', 'vis_data', 'vis_image', 'reconstruction_3.png'))
    assert len(panels) == 1
