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
    src = PlainViT(arch='tiny', img_size=32, patch_size=8)  # 4 x 4 grid
    with torch.no_grad():
        src.pos_embed.add_(torch.randn_like(src.pos_embed))  # no longer the sin-cos table
    dst = PlainViT(arch='tiny', img_size=48, patch_size=8)  # 6 x 6 grid
    dst.load_state_dict(src.state_dict())
    torch.testing.assert_close(dst.pos_embed, resample_pos_embed(src.pos_embed.detach(), (6, 6)))


def test_pos_embed_is_a_persistent_tensor_frozen_only_when_asked():
    vit = PlainViT(arch='tiny', img_size=32, patch_size=8)
    assert vit.state_dict()['pos_embed'].shape == (1, 1 + 16, 192)
    assert vit.pos_embed.requires_grad
    assert not PlainViT(arch='tiny', img_size=32, patch_size=8, pos_embed_trainable=False).pos_embed.requires_grad


def test_forward_shapes_and_other_resolutions():
    vit = PlainViT(arch='tiny', img_size=32, patch_size=8).eval()
    assert vit(torch.randn(2, 3, 32, 32)).shape == (2, 17, 192)
    assert vit(torch.randn(1, 3, 48, 24)).shape == (1, 1 + 6 * 3, 192)
    with pytest.raises(ValueError, match='not divisible'):
        vit(torch.randn(1, 3, 30, 32))


def test_activation_checkpointing_gives_the_same_output_and_gradients():
    torch.manual_seed(0)
    vit = PlainViT(arch='tiny', img_size=32, patch_size=8)
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
    with pytest.raises(ValueError, match='not divisible by patch_size 16'):
        PlainViT(arch='tiny', img_size=100)


@pytest.mark.parametrize('arch,patch,paper_millions', [('base', 16, 86), ('large', 16, 304), ('huge', 14, 632)])
def test_encoder_sizes_match_the_paper(arch, patch, paper_millions):
    with torch.device('meta'):  # shapes only: no memory, no init time
        vit = PlainViT(arch=arch, img_size=224)
    assert vit.patch_size == patch
    trainable = sum(p.numel() for p in vit.parameters() if p.requires_grad) - vit.pos_embed.numel()
    assert abs(trainable / 1e6 - paper_millions) / paper_millions < 0.03
