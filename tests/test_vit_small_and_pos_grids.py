"""ViT-S/16 and the sizes past ViT-H in the one size table, against timm's and the papers'; position
tables resampled per axis between grids of any shape, at load (a checkpoint's table) and in forward
(the model's learned table)."""
import os.path as osp

import pytest
import timm
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
from mae_mm.models.cls import ViTClsBackbone
from mae_mm.models.vit import VIT_ARCHS, PlainViT
from mae_mm.registry import MODELS

from conftest import ROOT

SMALL_PRETRAIN = osp.join(ROOT, 'configs', 'pretrain', 'mae_vit-small-p16_8xb512-amp-coslr-800e_in1k.py')
SMALL_FINETUNE = osp.join(ROOT, 'configs', 'finetune', 'vit-small-p16_8xb128-coslr-100e_in1k.py')
D = 192  # the tiny preset's width


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def test_vit_small_is_timms_vit_small_patch16_224():
    """Our ViT-S/16, built from the shipped pretraining config, and timm's: the same parameters, name for
    name and shape for shape, over everything both have (timm's head removed)."""
    cfg = Config.fromfile(SMALL_PRETRAIN)
    init_default_scope('mae_mm')
    with torch.device('meta'):
        ours = MODELS.build(cfg.model.encoder)
        theirs = timm.create_model('vit_small_patch16_224', pretrained=False, num_classes=0)
    ours_shapes = {n: tuple(p.shape) for n, p in ours.state_dict().items()}
    theirs_shapes = {n: tuple(p.shape) for n, p in theirs.state_dict().items()}
    assert ours_shapes == theirs_shapes
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    assert (ours.embed_dim, ours.depth, ours.num_heads, ours.patch_size) == (384, 12, 6, 16)
    assert ours.blocks[0].attn.num_heads == theirs.blocks[0].attn.num_heads == 6
    # the fine-tuning leaf states only the size: backbone and head widths follow
    finetune = Config.fromfile(SMALL_FINETUNE)
    assert (finetune.model.backbone.arch, finetune.model.head.in_channels) == ('small', 384)


def test_mmpretrains_small_is_another_model():
    from mmpretrain.models.backbones import VisionTransformer
    small, deit_small = VisionTransformer.arch_zoo['small'], VisionTransformer.arch_zoo['deit-small']
    assert (small['embed_dims'], small['num_layers'], small['num_heads']) == (768, 8, 8)
    ours = VIT_ARCHS['small']
    assert (deit_small['embed_dims'], deit_small['num_layers'], deit_small['num_heads']) == \
        (ours['embed_dim'], ours['depth'], ours['num_heads'])


PRETRAIN = osp.join(ROOT, 'configs', 'pretrain')
# arch -> its pretraining config, (width, depth, heads, MLP width), the papers' parameter count in billions
PAST_HUGE = {
    'giant': ('mae_vit-giant-p14_8xb512-amp-coslr-1600e_in1k.py', (1408, 40, 16, 6144), 1.0),  # Zhai et al.
    '2b': ('mae_vit-2b-p14_8xb512-amp-coslr-1600e_in1k.py', (2560, 24, 32, 10240), 1.9),  # Singh et al.
    '6.5b': ('mae_vit-6.5b-p14_64xb64-amp-coslr-1600e_in1k.py', (4096, 32, 32, 16384), 6.4),  # Singh et al.
}


def encoder_of(config):
    """The MAE encoder of a pretraining config, built on the meta device: full shapes, no memory."""
    cfg = Config.fromfile(osp.join(PRETRAIN, config))
    init_default_scope('mae_mm')
    with torch.device('meta'):
        return MODELS.build(cfg.model.encoder)


@pytest.mark.parametrize('arch', sorted(PAST_HUGE))
def test_sizes_past_vit_h_are_the_papers(arch):
    config, (width, depth, heads, mlp), billions = PAST_HUGE[arch]
    enc = encoder_of(config)
    assert VIT_ARCHS[arch]['patch_size'] == enc.patch_size == 14
    assert (enc.embed_dim, enc.depth, enc.num_heads, len(enc.blocks)) == (width, depth, heads, depth)
    assert {(b.attn.num_heads, b.mlp.fc1.out_features, b.mlp.fc2.in_features) for b in enc.blocks} == \
        {(heads, mlp, mlp)}  # int(width * mlp_ratio), exact
    # per block: qkv 3d^2 + 3d, proj d^2 + d, fc1 d*h + h, fc2 h*d + d, two norms 4d (12 d^2 + 13 d at h = 4d);
    # then the 14 x 14 patch kernel, the cls token, the 1 + 16 x 16 position rows, the final norm
    d, h = width, mlp
    closed = depth * (4 * d * d + 2 * d * h + h + 9 * d) + (3 * 14 * 14 * d + d) + d + 257 * d + 2 * d
    count = sum(p.numel() for p in enc.parameters())
    assert count == closed
    assert round(count / 1e9, 1) == billions  # ViT-g/14 1.01B, ViT-2B 1.89B, ViT-6.5B 6.45B


def test_vit_giant_is_timms_vit_giant_patch14_224():
    """ViT-g/14's table entry, as the giant pretraining config builds it, and timm's: the same
    parameters, name for name and shape for shape (timm's head removed)."""
    ours = encoder_of(PAST_HUGE['giant'][0])
    with torch.device('meta'):
        theirs = timm.create_model('vit_giant_patch14_224', pretrained=False, num_classes=0)
    assert {n: tuple(p.shape) for n, p in ours.state_dict().items()} == \
        {n: tuple(p.shape) for n, p in theirs.state_dict().items()}


def direct_resample(table, old_hw, new_hw):
    """(1, 1 + h*w, D) -> (1, 1 + H*W, D): the grid rows through one bicubic F.interpolate, cls row kept."""
    grid = table[:, 1:].reshape(1, *old_hw, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_hw, mode='bicubic', align_corners=False)
    return torch.cat([table[:, :1], grid.permute(0, 2, 3, 1).reshape(1, -1, D)], dim=1)


def checkpoint_with_grid(hw, seed=0):
    """A tiny ViT's state dict whose position table, laid out for ``hw``, holds random values."""
    torch.manual_seed(seed)
    vit = PlainViT(arch='tiny', pos_embed_img_size=(hw[0] * 8, hw[1] * 8), patch_size=8)
    state = vit.state_dict()
    state['pos_embed'] = torch.randn_like(state['pos_embed'])
    return state


@pytest.mark.parametrize('old_hw,new_hw,given', [
    ((14, 20), (16, 16), (14, 20)),  # not square: the grid is given
    ((14, 14), (14, 20), None),  # square: inferred
    ((20, 14), (16, 20), (20, 14)),  # one axis shrinks, the other grows
])
def test_a_loaded_table_is_resampled_per_axis(old_hw, new_hw, given):
    state = checkpoint_with_grid(old_hw)
    model = ViTClsBackbone(arch='tiny', img_size=(new_hw[0] * 8, new_hw[1] * 8), patch_size=8,
                           checkpoint_pos_grid=given)
    model.load_state_dict(state, strict=False)
    expected = direct_resample(state['pos_embed'], old_hw, new_hw)
    assert model.pos_embed.shape == (1, 1 + new_hw[0] * new_hw[1], D)
    torch.testing.assert_close(model.pos_embed.data, expected, rtol=0, atol=0)


def test_a_table_of_the_models_own_count_loads_as_it_is():
    """A resumed run's table: as many positions as the model's grid, read as that grid whatever
    checkpoint_pos_grid says (that key describes the checkpoint a run starts from)."""
    state = checkpoint_with_grid((14, 20))
    model = ViTClsBackbone(arch='tiny', img_size=(112, 160), patch_size=8, checkpoint_pos_grid=(20, 14))
    model.load_state_dict(state, strict=False)
    torch.testing.assert_close(model.pos_embed.data, state['pos_embed'], rtol=0, atol=0)


def test_a_learned_table_is_resampled_per_axis_for_another_input_grid():
    model = ViTClsBackbone(arch='tiny', img_size=(112, 160), patch_size=8)  # learned for 14 x 20
    with torch.no_grad():
        model.pos_embed.normal_()
    imgs = torch.randn(2, 3, 128, 128)  # 16 x 16
    tokens, grid = model.patch_tokens(imgs)
    assert grid == (16, 16)
    expected = model.patch_embed(imgs) + direct_resample(model.pos_embed, (14, 20), (16, 16))[:, 1:]
    torch.testing.assert_close(tokens, expected, rtol=0, atol=0)


def test_a_table_of_unknown_grid_is_refused_naming_the_key():
    state = checkpoint_with_grid((14, 20))
    model = ViTClsBackbone(arch='tiny', img_size=128, patch_size=8)
    with pytest.raises(ValueError, match=r'280 positions, not a square grid.*set checkpoint_pos_grid of '
                                         r'ViTClsBackbone.*\(14, 20\)'):
        model.load_state_dict(state, strict=False)
    wrong = ViTClsBackbone(arch='tiny', img_size=128, patch_size=8, checkpoint_pos_grid=(15, 20))
    with pytest.raises(ValueError, match=r'280 positions, checkpoint_pos_grid=\(15, 20\) has 300'):
        wrong.load_state_dict(state, strict=False)
    for bad in ((14,), (14, 0), (14.0, 20), 'ab'):
        with pytest.raises(ValueError, match='checkpoint_pos_grid must be \\(h, w\\), two positive integers'):
            ViTClsBackbone(arch='tiny', img_size=128, patch_size=8, checkpoint_pos_grid=bad)
