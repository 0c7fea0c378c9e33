"""The shared ViT: sin-cos table, patch order, position resampling, presets."""
import math

import pytest
import torch

from mae_mm.models.vit import (PlainViT, patchify, resample_pos_embed, sincos_2d_table, unpatchify)


def test_sincos_table_matches_closed_form_on_a_non_square_grid():
    dim, gh, gw = 16, 3, 5
    table = sincos_2d_table(dim, (gh, gw), cls_token=True)
    assert table.shape == (1 + gh * gw, dim)
    assert torch.all(table[0] == 0), 'the cls row is zero'
    quarter = dim // 4
    omega = [1.0 / 10000 ** (k / quarter) for k in range(quarter)]
    for i in range(gh):
        for j in range(gw):
            row = table[1 + i * gw + j]  # row-major patches
            expected = ([math.sin(j * w) for w in omega] + [math.cos(j * w) for w in omega]  # width first
                        + [math.sin(i * w) for w in omega] + [math.cos(i * w) for w in omega])  # then height
            torch.testing.assert_close(row, torch.tensor(expected, dtype=torch.float32), atol=1e-6, rtol=0)


def test_sincos_rejects_a_width_not_divisible_by_four():
    with pytest.raises(ValueError, match='divisible by 4'):
        sincos_2d_table(18, (2, 2))


def test_patchify_orders_row_column_channel_and_unpatchify_inverts():
    p, imgs = 4, torch.randn(2, 3, 8, 12)
    patches = patchify(imgs, p)
    assert patches.shape == (2, 2 * 3, p * p * 3)
    # patch (1, 2) is index 1 * 3 + 2; its value at (row 3, col 1, channel 2)
    assert patches[1, 5, (3 * p + 1) * 3 + 2] == imgs[1, 2, 1 * p + 3, 2 * p + 1]
    torch.testing.assert_close(unpatchify(patches, p, (2, 3)), imgs)


def test_resample_pos_embed_keeps_cls_and_identity_on_same_grid():
    table = sincos_2d_table(8, (4, 4))[None]
    assert resample_pos_embed(table, (4, 4)) is table
    out = resample_pos_embed(table, (6, 3))
    assert out.shape == (1, 1 + 18, 8)
    torch.testing.assert_close(out[:, 0], table[:, 0])
    # bicubic resampling of a constant grid stays constant
    const = torch.cat([torch.zeros(1, 1, 8), torch.ones(1, 16, 8)], dim=1)
    torch.testing.assert_close(resample_pos_embed(const, (7, 5)), torch.cat(
        [torch.zeros(1, 1, 8), torch.ones(1, 35, 8)], dim=1), atol=1e-5, rtol=0)


def test_checkpoint_pos_embed_is_resampled_not_regenerated_when_grids_differ():
    src = PlainViT(arch='tiny', pos_embed_img_size=32, patch_size=8)  # 4 x 4 grid
    with torch.no_grad():
        src.pos_embed.add_(torch.randn_like(src.pos_embed))  # no longer the sin-cos table
    dst = PlainViT(arch='tiny', pos_embed_img_size=48, patch_size=8)  # 6 x 6 grid
    dst.load_state_dict(src.state_dict())
    torch.testing.assert_close(dst.pos_embed, resample_pos_embed(src.pos_embed.detach(), (6, 6)))


def test_pos_embed_is_a_persistent_tensor_frozen_only_when_asked():
    vit = PlainViT(arch='tiny', pos_embed_img_size=32, patch_size=8)
    assert vit.state_dict()['pos_embed'].shape == (1, 1 + 16, 192)
    assert vit.pos_embed.requires_grad
    assert not PlainViT(arch='tiny', pos_embed_img_size=32, patch_size=8, pos_embed_trainable=False).pos_embed.requires_grad


def test_forward_shapes_and_other_resolutions():
    vit = PlainViT(arch='tiny', pos_embed_img_size=32, patch_size=8).eval()
    assert vit(torch.randn(2, 3, 32, 32)).shape == (2, 17, 192)
    assert vit(torch.randn(1, 3, 48, 24)).shape == (1, 1 + 6 * 3, 192)
    with pytest.raises(ValueError, match='not divisible'):
        vit(torch.randn(1, 3, 30, 32))


def test_activation_checkpointing_gives_the_same_output_and_gradients():
    torch.manual_seed(0)
    vit = PlainViT(arch='tiny', pos_embed_img_size=32, patch_size=8)
    x = torch.randn(2, 3, 32, 32)
    vit(x).square().mean().backward()
    grads = {n: p.grad.clone() for n, p in vit.named_parameters() if p.grad is not None}
    vit.zero_grad()
    vit.with_checkpoint = True
    vit(x).square().mean().backward()
    for name, grad in grads.items():
        torch.testing.assert_close(dict(vit.named_parameters())[name].grad, grad, atol=1e-6, rtol=1e-5)


def test_unknown_arch_and_bad_image_size_fail_clearly():
    with pytest.raises(KeyError, match="unknown ViT arch 'gigantic'"):
        PlainViT(arch='gigantic')
    with pytest.raises(ValueError, match=r'pos_embed_img_size \(100, 100\) is not divisible by patch_size 16'):
        PlainViT(arch='tiny', pos_embed_img_size=100)
    from mae_mm.models.mae import MAEEncoder
    with pytest.raises(ValueError, match=r'pretrain_img_size \(100, 100\) is not divisible by patch_size 16'):
        MAEEncoder(arch='tiny', pretrain_img_size=100)


def test_img_size_in_its_old_meaning_is_refused_naming_the_new_key():
    """``img_size`` used to set the plain ViT's (and the MAE encoder's) position grid; it now names a
    task backbone's input size, so here it is an error that points to the key that sets the grid."""
    with pytest.raises(TypeError, match="PlainViT: 'img_size' is no longer an argument: .*pos_embed_img_size"):
        PlainViT(arch='tiny', img_size=32, patch_size=8)
    from mae_mm.models.mae import MAEEncoder
    with pytest.raises(TypeError, match="MAEEncoder: 'img_size' is no longer an argument: .*pretrain_img_size"):
        MAEEncoder(arch='tiny', img_size=32, patch_size=8)
    with pytest.raises(TypeError, match="MAEEncoder: 'pos_embed_img_size' is no longer an argument: .*pretrain_img_size"):
        MAEEncoder(arch='tiny', pos_embed_img_size=32, patch_size=8)
    with pytest.raises(TypeError, match=r"PlainViT: unexpected arguments \['depth'\]"):
        PlainViT(arch='tiny', depth=3)


def test_the_old_name_pretrain_img_size_still_sets_the_plain_vits_position_grid():
    """Configs written before the rename keep building: ``pretrain_img_size`` is read as
    ``pos_embed_img_size``; both at once is refused."""
    old = PlainViT(arch='tiny', pretrain_img_size=(32, 48), patch_size=8)
    assert old.grid_size == (4, 6) == PlainViT(arch='tiny', pos_embed_img_size=(32, 48), patch_size=8).grid_size
    with pytest.raises(TypeError, match="PlainViT: 'pretrain_img_size' is the old name of 'pos_embed_img_size'"):
        PlainViT(arch='tiny', pretrain_img_size=32, pos_embed_img_size=48, patch_size=8)


def test_out_types_emit_tokens_pooled_features_or_maps():
    torch.manual_seed(0)
    kwargs = dict(arch=dict(embed_dim=16, depth=3, num_heads=2, patch_size=8), pos_embed_img_size=32)
    tokens_vit = PlainViT(**kwargs).eval()
    x = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        tokens = tokens_vit(x)  # (2, 1 + 4 * 6, 16) after the final norm
        maps_vit = PlainViT(**kwargs, out_type='featmaps', out_indices=(0, 2))
        maps_vit.load_state_dict(tokens_vit.state_dict(), strict=False)  # the same blocks; no final norm
        first, last = maps_vit.eval()(x)
        raw, _ = tokens_vit.run_blocks(tokens_vit.with_cls_token(tokens_vit.patch_tokens(x)[0]))
    assert tokens.shape == (2, 25, 16) and first.shape == last.shape == (2, 16, 4, 6)
    torch.testing.assert_close(tokens, tokens_vit.norm(raw))
    torch.testing.assert_close(last, raw[:, 1:].transpose(1, 2).reshape(2, 16, 4, 6))  # row-major patches
    assert 'norm.weight' not in maps_vit.state_dict() and 'fc_norm.weight' in PlainViT(**kwargs, out_type='avg_featmap').state_dict()
    with pytest.raises(ValueError, match='out_indices must be increasing'):
        PlainViT(**kwargs, out_type='featmaps', out_indices=(2, 1))
    with pytest.raises(ValueError, match='out_indices .* only read with out_type="featmaps"'):
        PlainViT(**kwargs, out_indices=(1,))
    with pytest.raises(ValueError, match='final_norm=True with out_type .avg_featmap.'):
        PlainViT(**kwargs, out_type='avg_featmap', final_norm=True)


@pytest.mark.parametrize('arch,patch,paper_millions', [('base', 16, 86), ('large', 16, 304), ('huge', 14, 632)])
def test_encoder_sizes_match_the_paper(arch, patch, paper_millions):
    with torch.device('meta'):  # shapes only: no memory, no init time
        vit = PlainViT(arch=arch, pos_embed_img_size=224)
    assert vit.patch_size == patch
    trainable = sum(p.numel() for p in vit.parameters() if p.requires_grad) - vit.pos_embed.numel()
    assert abs(trainable / 1e6 - paper_millions) / paper_millions < 0.03
