"""The COCO detection backbone and pyramid: windows, relative positions, shapes, checkpoint loading."""
import functools
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint_with_prefix

import mae_mm  # noqa: F401
from mae_mm.models.det import (
    DecomposedRelPosBias,
    SimpleFeaturePyramid,
    ViTDetBackbone,
    decomposed_rel_pos_bias,
    rel_pos_lookup,
)
from mae_mm.models.mae import MAEEncoder, MaskedAutoencoder
from mae_mm.models.vit import Attention, Block, PlainViT, resample_pos_embed, window_partition, window_unpartition
from mae_mm.registry import build_model

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO_H = osp.join(ROOT, 'configs', 'coco', 'mask-rcnn_vit-huge-p14_16xb4-amp-lsj-75e_coco.py')
REL_POS = ('attn.rel_pos_h', 'attn.rel_pos_w')


def test_window_partition_pads_orders_row_major_and_unpartition_inverts():
    x = torch.randn(2, 10, 13, 5)  # (B, H, W, C), padded to 12 x 16: 3 x 4 windows of 4
    windows, padded = window_partition(x, 4)
    assert windows.shape == (2 * 3 * 4, 4, 4, 5) and padded == (12, 16)
    torch.testing.assert_close(windows[0], x[0, :4, :4])
    torch.testing.assert_close(windows[1 * 4 + 2], x[0, 4:8, 8:12])  # image 0, window row 1, column 2
    torch.testing.assert_close(windows[12 + 5], x[1, 4:8, 4:8])  # image 1 starts after 12 windows
    last = windows[11]  # image 0, bottom-right: 2 x 1 real tokens, the rest zero padding
    torch.testing.assert_close(last[:2, :1], x[0, 8:10, 12:13])
    assert last[2:].abs().sum() == 0 and last[:, 1:].abs().sum() == 0
    torch.testing.assert_close(window_unpartition(windows, 4, padded, (10, 13)), x)
    same, padded = window_partition(x[:, :8, :12], 4)  # no padding needed
    assert padded == (8, 12) and same.shape == (2 * 2 * 3, 4, 4, 5)
    torch.testing.assert_close(window_unpartition(same, 4, padded, (8, 12)), x[:, :8, :12])


def test_decomposed_rel_pos_bias_matches_its_definition_token_by_token():
    torch.manual_seed(0)
    h, w, c = 3, 4, 5
    q = torch.randn(2, 2, h * w, c)
    table_h, table_w = torch.randn(2 * h - 1, c), torch.randn(2 * w - 1, c)
    bias = decomposed_rel_pos_bias(q, (h, w), table_h, table_w)
    assert bias.shape == (2, 2, h * w, h * w)
    expected = torch.empty_like(bias)
    for i in range(h * w):
        for j in range(h * w):
            (ih, iw), (jh, jw) = divmod(i, w), divmod(j, w)
            expected[..., i, j] = q[..., i, :] @ table_h[ih - jh + h - 1] + q[..., i, :] @ table_w[iw - jw + w - 1]
    torch.testing.assert_close(bias, expected)


def test_rel_pos_table_of_another_size_is_resampled_linearly():
    table = torch.arange(9.0)[:, None].repeat(1, 2)  # offsets -4..4 of a 5-grid, value = offset + 4
    lookup = rel_pos_lookup(table, 3)  # a 3-grid needs offsets -2..2: 5 rows resampled from 9
    assert lookup.shape == (3, 3, 2)
    assert lookup[1, 1, 0] == 4.0  # offset 0 stays the table's middle
    assert torch.all(lookup[0, 2] < lookup[1, 1]) and torch.all(lookup[2, 0] > lookup[1, 1])  # still monotone
    torch.testing.assert_close(rel_pos_lookup(table, 5), table[torch.arange(5)[:, None] - torch.arange(5) + 4])


def vitdet_block(window: int, grid=(4, 4)) -> Block:
    """A ViTDet block of width 32 and 2 heads: windows of ``window`` (0: global), the decomposed bias
    sized for the window or, in a global block, for ``grid``."""
    table_grid = (window, window) if window else grid
    return Block(32, 2, window_size=window, rel_pos_bias=functools.partial(DecomposedRelPosBias, grid_size=table_grid))


def test_window_attention_sees_only_its_window_and_global_attention_sees_all():
    torch.manual_seed(0)
    x = torch.randn(1, 16, 32, requires_grad=True)  # a 4 x 4 grid
    for window, expected_reach in ((2, {0, 1, 4, 5}), (0, set(range(16)))):
        block = vitdet_block(window)
        with torch.no_grad():  # non-zero tables, so the bias is exercised too
            block.attn.rel_pos_h.normal_()
            block.attn.rel_pos_w.normal_()
        (grad,) = torch.autograd.grad(block(x, (4, 4))[0, 0].sum(), x)  # output token (0, 0)
        reached = {i for i in range(16) if grad[0, i].abs().sum() > 0}
        assert reached == expected_reach, window



def test_window_attention_refuses_tokens_that_are_not_the_grid():
    with pytest.raises(ValueError, match=r'window attention needs exactly the \(4, 4\) grid'):
        vitdet_block(2)(torch.randn(1, 17, 32), (4, 4))  # a cls token too


@pytest.mark.parametrize('window', [2, 0], ids=['window', 'global'])
def test_relative_position_attention_sdpa_matches_explicit_softmax(window):
    torch.manual_seed(0)
    block = vitdet_block(window)
    with torch.no_grad():
        block.attn.rel_pos_h.normal_()
        block.attn.rel_pos_w.normal_()
    x = torch.randn(2, 16, 32)
    fused = block(x, (4, 4))
    assert block.attn.fused_attn
    block.attn.fused_attn = False  # the instance's switch: the explicit softmax(q k^T / sqrt(d) + bias) v
    q, k, v = block.attn.project_qkv(block.norm1(x))
    torch.testing.assert_close(block(x, (4, 4)), fused, rtol=0, atol=1e-5)
    assert Attention.fused_attn  # the class default is untouched
    if not window:  # the global block's attention by hand
        bias = decomposed_rel_pos_bias(q, (4, 4), block.attn.rel_pos_h, block.attn.rel_pos_w)
        probs = ((q @ k.transpose(-2, -1)) / 16 ** 0.5 + bias).softmax(-1)
        by_hand = block.attn.proj((probs @ v).transpose(1, 2).reshape(2, 16, 32))
        torch.testing.assert_close(block.attend_grid(block.norm1(x), (4, 4)), by_hand, rtol=0, atol=1e-5)


def test_zero_relative_tables_and_full_windows_reproduce_the_pretrained_vit():
    """At init the detection blocks compute what the pretrained ViT's blocks compute."""
    torch.manual_seed(0)
    vit = PlainViT(arch='tiny', pos_embed_img_size=32, patch_size=8).eval()  # 4 x 4 grid
    imgs = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        tokens, _ = vit.patch_tokens(imgs)
        expected, _ = vit.run_blocks(tokens)  # (2, 16, 192), no cls token, no final norm
    for window, global_blocks in ((4, (1,)), (8, ()), (0, range(6))):  # one window = the grid; padded; all global
        det = ViTDetBackbone(arch='tiny', patch_size=8, img_size=32, pretrain_img_size=32, window_size=window,
                             global_blocks=global_blocks).eval()
        missing, unexpected = det.load_state_dict(vit.state_dict(), strict=False)
        assert {k.split('.', 2)[-1] for k in missing} == set(REL_POS)
        assert set(unexpected) == {'cls_token', 'norm.weight', 'norm.bias'}
        with torch.no_grad():
            (out,) = det(imgs)
        assert out.shape == (2, 192, 4, 4)
        got = out.flatten(2).transpose(1, 2)
        if window == 8:  # an 8-window pads the 4 x 4 grid with zeros, which then attend: not the same
            assert not torch.allclose(got, expected, atol=1e-4)
        else:
            torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def _tiny_detector_parts(out_channels=256, **backbone):
    backbone = dict(dict(arch='tiny', patch_size=16, img_size=1024, window_size=14, global_blocks=(2, 5)), **backbone)
    return ViTDetBackbone(**backbone), SimpleFeaturePyramid(in_channels=192, out_channels=out_channels)


def test_pyramid_of_a_1024_input_has_strides_4_to_64():
    backbone, neck = _tiny_detector_parts()
    with torch.no_grad():
        (feat,) = backbone(torch.randn(1, 3, 1024, 1024))  # 64 x 64 tokens in 5 x 5 padded windows of 14
        outs = neck((feat,))
    assert feat.shape == (1, 192, 64, 64)
    assert [tuple(o.shape) for o in outs] == [(1, 256, 256, 256), (1, 256, 128, 128), (1, 256, 64, 64),
                                              (1, 256, 32, 32), (1, 256, 16, 16)]


def test_pyramid_of_a_non_square_input_and_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    backbone, neck = _tiny_detector_parts(out_channels=64, with_checkpoint=True)
    backbone.train()
    outs = neck(backbone(torch.randn(2, 3, 160, 288)))  # a 10 x 18 grid, not the stored 14 x 14 one
    assert [tuple(o.shape) for o in outs] == [(2, 64, 40, 72), (2, 64, 20, 36), (2, 64, 10, 18),
                                              (2, 64, 5, 9), (2, 64, 3, 5)]
    sum(o.square().mean() for o in outs).backward()
    for name, p in [*backbone.named_parameters(), *neck.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_pyramid_norm_is_vitdets_layernorm_by_default_and_can_be_left_out():
    from mae_mm.models.det import LayerNorm2d
    ln, plain = SimpleFeaturePyramid(in_channels=192, out_channels=32), \
        SimpleFeaturePyramid(in_channels=192, out_channels=32, norm_cfg=None)
    for neck, has_norm in ((ln, True), (plain, False)):
        convs = [m for m in neck.modules() if type(m) is torch.nn.Conv2d]
        norms = [m for m in [*neck.lateral_convs.modules(), *neck.output_convs.modules()] if isinstance(m, LayerNorm2d)]
        assert len(convs) == 8 and len(norms) == (8 if has_norm else 0)
        assert all((c.bias is None) == has_norm for c in convs)  # a bias only where no norm follows
    x = torch.randn(2, 192, 8, 8)
    for level in ln((x,)):  # every location normalised over its channels
        torch.testing.assert_close(level.mean(1), torch.zeros_like(level.mean(1)), atol=1e-5, rtol=0)
    assert [o.shape for o in plain((x,))] == [o.shape for o in ln((x,))]


def test_scale_factors_other_than_powers_of_two_are_refused():
    with pytest.raises(ValueError, match='powers of 2'):
        SimpleFeaturePyramid(in_channels=192, scale_factors=(3.0, 1.0))


def _save_pretraining_checkpoint(path, **encoder):
    """A checkpoint of this project's MAE, as tools/train.py writes it (encoder.* and decoder.*)."""
    mae = MaskedAutoencoder(encoder=dict(type='MAEEncoder', **encoder),
                            decoder=dict(type='MAEDecoder', embed_dim=32, depth=1, num_heads=2))
    assert isinstance(mae.encoder, MAEEncoder)
    with torch.no_grad():
        for p in mae.parameters():
            p.normal_()  # unlike any init, so a loaded value cannot be a coincidence
        mae.encoder.pos_embed.normal_()
    torch.save(dict(state_dict=mae.state_dict(), meta=dict()), path)
    return {k[len('encoder.'):]: v for k, v in mae.state_dict().items() if k.startswith('encoder.')}


def test_backbone_loads_a_pretraining_checkpoint_with_no_missing_vit_key(tmp_path):
    ckpt = str(tmp_path / 'pretrain.pth')
    encoder = _save_pretraining_checkpoint(ckpt, arch='tiny', pretrain_img_size=64, patch_size=8)  # 8 x 8 grid
    init_cfg = dict(type='Pretrained', checkpoint=ckpt, prefix='encoder.')
    det = ViTDetBackbone(arch='tiny', patch_size=8, img_size=128, pretrain_img_size=64, window_size=8,
                         global_blocks=(2, 5), init_cfg=init_cfg)
    missing, unexpected = det.load_state_dict(_load_checkpoint_with_prefix('encoder.', ckpt), strict=False)
    assert all(k.endswith(REL_POS) for k in missing) and len(missing) == 2 * 6  # only the new tables
    assert set(unexpected) == {'cls_token', 'norm.weight', 'norm.bias'}  # unused by detection

    det = ViTDetBackbone(arch='tiny', patch_size=8, img_size=128, pretrain_img_size=64, window_size=8,
                         global_blocks=(2, 5), init_cfg=init_cfg)
    det.init_weights()  # what the runner does: mmengine's Pretrained init with the prefix
    own = det.state_dict()
    for name, value in encoder.items():
        if name in ('cls_token', 'norm.weight', 'norm.bias'):
            continue
        torch.testing.assert_close(own[name], value, msg=name)  # same grid: pos_embed as it is
    for name in own:
        if name.endswith(REL_POS):
            assert own[name].abs().sum() == 0, name

    # on another pretraining grid (224 // 8 = 28) the table is resampled, not re-initialised
    det = ViTDetBackbone(arch='tiny', patch_size=8, img_size=128, window_size=8, global_blocks=(2, 5),
                         init_cfg=init_cfg)
    det.init_weights()
    torch.testing.assert_close(det.pos_embed, resample_pos_embed(encoder['pos_embed'], (28, 28)))


def test_the_vit_h_backbone_loads_a_patch_14_checkpoint_as_16_x_16_patches(tmp_path):
    """The ViT-H config's backbone (patch 16) on a patch-14 checkpoint, with a smaller width and depth."""
    cfg = Config.fromfile(COCO_H).model.backbone
    assert cfg.arch == 'huge' and cfg.patch_size == 16
    small_h = dict(embed_dim=64, depth=2, num_heads=2, patch_size=14)  # ViT-H/14 apart from its size
    ckpt = str(tmp_path / 'pretrain_p14.pth')
    encoder = _save_pretraining_checkpoint(ckpt, arch=small_h, pretrain_img_size=224)  # 16 x 16 grid of 14-pixel patches
    cfg.update(arch=small_h, global_blocks=(1,), init_cfg=dict(cfg.init_cfg, checkpoint=ckpt))
    det = build_model(cfg)
    det.init_weights()
    assert det.patch_embed.proj.weight.shape == (64, 3, 16, 16)
    torch.testing.assert_close(det.patch_embed.proj.weight, F.interpolate(
        encoder['patch_embed.proj.weight'], size=(16, 16), mode='bicubic', align_corners=False))
    torch.testing.assert_close(det.pos_embed, resample_pos_embed(encoder['pos_embed'], (14, 14)))  # 224 // 16
    torch.testing.assert_close(det.blocks[1].mlp.fc2.weight, encoder['blocks.1.mlp.fc2.weight'])
    with torch.no_grad():
        (feat,) = det(torch.randn(1, 3, 256, 320))
    assert feat.shape == (1, 64, 16, 20)


def test_the_detection_backbone_builds_each_module_once(monkeypatch):
    """Nothing is built to be thrown away: every module made during the build is in the model."""
    created, init = [], torch.nn.Module.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        created.append(self)

    monkeypatch.setattr(torch.nn.Module, '__init__', recording_init)
    det = ViTDetBackbone(arch='tiny', patch_size=8, img_size=64, pretrain_img_size=32, window_size=4,
                         global_blocks=(2, 5))
    monkeypatch.undo()
    kept = {id(m) for m in det.modules()}
    assert [type(m).__name__ for m in created if id(m) not in kept] == []
    assert sum(type(m) is Attention for m in created) == sum(type(m) is Block for m in created) == 6
    assert det.cls_token is None and 'cls_token' not in det.state_dict()
    assert [blk.window_size for blk in det.blocks] == [4, 4, 0, 4, 4, 0]
    assert [tuple(blk.attn.rel_pos_h.shape) for blk in det.blocks[1:3]] == [(7, 64), (15, 64)]  # window 4; 8 x 8 grid
    assert det.grid_size == (4, 4)  # the position table stays on the pretraining grid (32 / 8), not the input's


def test_old_argument_names_are_refused_naming_the_new_ones():
    with pytest.raises(TypeError, match="ViTDetBackbone: 'use_rel_pos' is no longer an argument: .*rel_pos_bias"):
        ViTDetBackbone(arch='tiny', use_rel_pos=True)
    with pytest.raises(TypeError, match="ViTDetBackbone: 'pos_embed_img_size' is no longer an argument: "
                                        ".*pretrain_img_size"):
        ViTDetBackbone(arch='tiny', pos_embed_img_size=224)
    with pytest.raises(TypeError, match="SimpleFeaturePyramid: 'vit_arch' is no longer an argument: .*in_channels"):
        SimpleFeaturePyramid(vit_arch='tiny')
    with pytest.raises(TypeError, match=r"ViTDetBackbone: unexpected arguments \['windows'\]"):
        ViTDetBackbone(arch='tiny', global_blocks=(2,), windows=4)


def test_checkpoint_match_accepts_what_the_model_adapts_at_load_and_nothing_else():
    """The Runner's checkpoint check reads what each module resamples at load from the model itself:
    a ViT-H/14 patch kernel fits the 16-pixel detection backbone, not a classifier that keeps 14."""
    from mae_mm.engine.checkpoint_match_hook import checkpoint_mismatches
    from mae_mm.models.cls import ViTClsBackbone
    from mae_mm.models.vit import adapted_state_keys
    small_h = dict(embed_dim=32, depth=2, num_heads=2, patch_size=14)
    vit_h14 = MAEEncoder(arch=small_h, pretrain_img_size=224).state_dict()
    det = ViTDetBackbone(arch=small_h, patch_size=16, img_size=256, window_size=4, global_blocks=(1,))
    assert adapted_state_keys(det) == {'pos_embed', 'patch_embed.proj.weight'}
    assert checkpoint_mismatches(vit_h14, det.state_dict(), False, adapted_state_keys(det)) == []
    det.load_state_dict(vit_h14, strict=False)  # and the model does accept it
    cls = ViTClsBackbone(arch=small_h, patch_size=16, img_size=256)  # no patch_kernel_mode: refused
    assert adapted_state_keys(cls) == {'pos_embed'}
    assert checkpoint_mismatches(vit_h14, cls.state_dict(), False, adapted_state_keys(cls)) == [
        'patch_embed.proj.weight: checkpoint (32, 3, 14, 14) vs model (32, 3, 16, 16)']
    with pytest.raises(ValueError, match=r'patch_embed\.proj\.weight: checkpoint \(32, 3, 14, 14\)'):
        cls.load_state_dict(vit_h14, strict=False)
    wider = ViTDetBackbone(arch=dict(small_h, embed_dim=48), patch_size=16, img_size=256, window_size=4,
                           global_blocks=(1,))
    assert 'blocks.0.attn.qkv.weight: checkpoint (96, 32) vs model (144, 48)' in checkpoint_mismatches(
        vit_h14, wider.state_dict(), False, adapted_state_keys(wider))
