"""ADE20K transfer: the segmentation backbone, its bias tables and patch resampling, the neck, the configs."""
import inspect
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
from mae_mm.models.seg import NormedFeature2Pyramid, RelativePositionBias, SegViTBackbone
from mae_mm.models.vit import resample_patch_kernel, resample_pos_embed
from mae_mm.registry import MODELS, build_model

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ADE = osp.join(ROOT, 'configs', 'ade20k')
BASE = osp.join(ADE, 'upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py')
LARGE = osp.join(ADE, 'upernet_vit-large-p16_8xb2-amp-160k_ade20k-512x512.py')
HUGE = osp.join(ADE, 'upernet_vit-huge-p14_8xb2-amp-160k_ade20k-512x512.py')
MS_FLIP = osp.join(ADE, 'upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512-ms-flip.py')
TINY14 = dict(embed_dim=32, depth=2, num_heads=2, patch_size=14)  # a ViT-H/14 in miniature


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def pretraining_checkpoint(path, arch='tiny', img_size=32, patch_size=8):
    """``img_size``: the pretraining resolution (the encoder's ``pretrain_img_size``)."""
    """Saves a MaskedAutoencoder's state dict as mmengine does (encoder.*, decoder.*); returns it."""
    torch.manual_seed(0)
    mae = build_model(dict(type='MaskedAutoencoder',
                           encoder=dict(type='MAEEncoder', arch=arch, pretrain_img_size=img_size, patch_size=patch_size),
                           decoder=dict(type='MAEDecoder', embed_dim=32, depth=1, num_heads=2)))
    state = mae.state_dict()
    torch.save(dict(meta=dict(), state_dict=state), path)
    return {k[len('encoder.'):]: v for k, v in state.items() if k.startswith('encoder.')}


def backbone_from(ckpt, **kwargs):
    kwargs.setdefault('arch', 'tiny')
    kwargs.setdefault('patch_size', 8)
    kwargs.setdefault('out_indices', (1, 2, 3, 5))
    model = SegViTBackbone(init_cfg=dict(type='Pretrained', checkpoint=str(ckpt), prefix='encoder.'), **kwargs)
    model.init_weights()
    return model


def shrunk_base_config(**backbone):
    """The real ViT-B ADE20K config with a tiny ViT (8 x 8 patches, 64 x 64 crops) and narrow heads."""
    cfg = Config.fromfile(BASE)
    cfg.model.backbone.update(dict(arch='tiny', img_size=(64, 64), patch_size=8, out_indices=(1, 2, 3, 5), init_cfg=None))
    cfg.model.backbone.update(backbone)
    cfg.model.neck.embed_dim = 192
    cfg.model.decode_head.update(in_channels=[192] * 4, channels=32)
    cfg.model.auxiliary_head.update(in_channels=192, channels=16)
    return cfg


def build_segmentor(cfg):
    init_default_scope(cfg.default_scope)
    return revert_sync_batchnorm(MODELS.build(cfg.model))


# ---- loading a pretraining checkpoint -------------------------------------------------------------

def test_backbone_loads_a_pretraining_checkpoint_with_no_missing_vit_key(tmp_path):
    encoder = pretraining_checkpoint(tmp_path / 'pre.pth', img_size=32)  # 4 x 4 grid
    model = backbone_from(tmp_path / 'pre.pth', img_size=64)  # 8 x 8 grid
    missing, unexpected = model.load_state_dict(encoder, strict=False)
    assert sorted(missing) == [f'blocks.{i}.rel_pos_bias.relative_position_bias_table' for i in range(6)]
    assert sorted(unexpected) == ['norm.bias', 'norm.weight'], 'only the final norm goes unused'
    state = model.state_dict()
    for key, value in encoder.items():
        if key == 'pos_embed':
            torch.testing.assert_close(state[key], resample_pos_embed(value, (8, 8), (4, 4)))
        elif not key.startswith('norm.'):
            torch.testing.assert_close(state[key], value, msg=key)
    assert state['pos_embed'].shape == (1, 1 + 64, 192)


@pytest.mark.parametrize('mode', ['bicubic', 'pinv'])
def test_patch_kernel_of_a_14_pixel_vit_is_resampled_to_16_at_load(tmp_path, mode):
    encoder = pretraining_checkpoint(tmp_path / 'pre14.pth', arch=TINY14, img_size=28, patch_size=14)
    model = backbone_from(tmp_path / 'pre14.pth', arch=TINY14, patch_size=16, img_size=64, out_indices=(0, 1),
                          patch_kernel_mode=mode)
    assert model.patch_embed.proj.weight.shape == (32, 3, 16, 16)
    kernel14 = encoder['patch_embed.proj.weight']
    expected = F.interpolate(kernel14, size=(16, 16), mode='bicubic', align_corners=False) if mode == 'bicubic' \
        else resample_patch_kernel(kernel14, (16, 16), 'pinv')
    torch.testing.assert_close(model.patch_embed.proj.weight, expected)
    torch.testing.assert_close(model.patch_embed.proj.bias, encoder['patch_embed.proj.bias'])
    assert model.pos_embed.shape == (1, 1 + 16, 32)  # 2 x 2 grid -> 4 x 4
    feats = model(torch.randn(1, 3, 64, 96))
    assert [tuple(f.shape) for f in feats] == [(1, 32, 4, 6)] * 2


def test_the_ade20k_and_coco_vit_h_configs_resample_the_patch_kernel_the_same_way():
    coco = Config.fromfile(osp.join(ROOT, 'configs', 'coco', 'mask-rcnn_vit-huge-p14_16xb4-amp-lsj-75e_coco.py'))
    for backbone in (Config.fromfile(HUGE).model.backbone, coco.model.backbone):
        assert backbone.patch_size == 16
        assert patch_kernel_mode_of(backbone) == 'bicubic'


def patch_kernel_mode_of(backbone_cfg):
    """The patch kernel mode a backbone config gets: its own key, else the class default."""
    cls = MODELS.get(backbone_cfg.type)
    return backbone_cfg.get('patch_kernel_mode', inspect.signature(cls).parameters['patch_kernel_mode'].default)


def test_pinv_resampled_patch_kernel_embeds_a_resized_patch_as_the_original_did():
    torch.manual_seed(0)
    weight, patch = torch.randn(6, 3, 14, 14), torch.randn(4, 3, 14, 14)
    new = resample_patch_kernel(weight, (16, 16), 'pinv')
    resized = F.interpolate(patch, size=(16, 16), mode='bilinear', align_corners=False)
    torch.testing.assert_close(F.conv2d(resized, new), F.conv2d(patch, weight), atol=1e-4, rtol=1e-4)
    assert resample_patch_kernel(weight, (14, 14), 'pinv') is weight


def test_an_unknown_patch_kernel_mode_is_refused_at_build():
    with pytest.raises(ValueError, match="'nearest'"):
        SegViTBackbone(arch='tiny', patch_size=8, img_size=32, out_indices=(1,), patch_kernel_mode='nearest')
    with pytest.raises(ValueError, match="'nearest'"):
        resample_patch_kernel(torch.zeros(2, 3, 14, 14), (16, 16), 'nearest')


def test_a_patch_kernel_of_another_width_is_refused_naming_the_key(tmp_path):
    pretraining_checkpoint(tmp_path / 'pre14.pth', arch=TINY14, img_size=28, patch_size=14)  # width 32
    with pytest.raises(ValueError, match=r'patch_embed\.proj\.weight.*\(32, 3, 14, 14\).*\(48, 3, 16, 16\)'):
        backbone_from(tmp_path / 'pre14.pth', arch=dict(TINY14, embed_dim=48), patch_size=16, img_size=64,
                      out_indices=(0,))


# ---- the relative position bias ---------------------------------------------------------------------

def test_relative_position_bias_indexes_the_table_by_2d_offset():
    bias = RelativePositionBias((3, 4), num_heads=2)
    table = torch.arange(bias.relative_position_bias_table.numel(), dtype=torch.float32).view(-1, 2)
    bias.relative_position_bias_table.data.copy_(table)
    out = bias.table_bias((3, 4))[0]  # (heads, 13, 13)
    assert out.shape == (2, 13, 13)
    offsets = table[:-3].view(5, 7, 2)  # dy in -2..2, dx in -3..3
    # query patch (2, 1) -> key patch (0, 3): offset (2, -2)
    q, k = 1 + 2 * 4 + 1, 1 + 0 * 4 + 3
    torch.testing.assert_close(out[:, q, k], offsets[2 + 2, -2 + 3])
    torch.testing.assert_close(out[:, 0, k], table[-3])  # cls -> patch
    torch.testing.assert_close(out[:, q, 0], table[-2])  # patch -> cls
    torch.testing.assert_close(out[:, 0, 0], table[-1])  # cls -> cls
    # a smaller grid keeps each offset's learned value
    small = bias.table_bias((2, 2))[0]
    torch.testing.assert_close(small[:, 1 + 1 * 2 + 0, 1 + 0 * 2 + 1], offsets[1 + 2, -1 + 3])
    # a larger one is resampled to its (2h-1, 2w-1) offsets
    assert bias.table_bias((5, 6)).shape == (1, 2, 31, 31)
    q = torch.randn(2, 2, 13, 8, dtype=torch.bfloat16)  # the attention's dtype under autocast
    assert bias(q, (3, 4)).dtype == torch.bfloat16 and bias(q, (3, 4)).shape == (1, 2, 13, 13)


def test_a_bias_table_for_another_grid_is_resampled_at_load_as_the_checkpoint_check_expects():
    """BEiT's rule: a table for a 4 x 4 grid is resampled bicubically into a 6 x 6 model when loaded.
    The bias declares it (``adapted_at_load``), so neither the backbone's own shape check nor the
    Runner's checkpoint check refuses the other shape (before, the backbone's check did)."""
    from mae_mm.engine.checkpoint_match_hook import checkpoint_mismatches
    from mae_mm.models.seg import fit_offset_table
    from mae_mm.models.vit import adapted_state_keys
    torch.manual_seed(0)
    small = SegViTBackbone(arch='tiny', patch_size=8, img_size=32, out_indices=(5,))  # (7 * 7 + 3, 3) tables
    for blk in small.blocks:
        blk.rel_pos_bias.relative_position_bias_table.data.normal_()
    big = SegViTBackbone(arch='tiny', patch_size=8, img_size=48, out_indices=(5,))  # (11 * 11 + 3, 3)
    tables = {f'blocks.{i}.rel_pos_bias.relative_position_bias_table' for i in range(6)}
    assert adapted_state_keys(big) == {'pos_embed', 'patch_embed.proj.weight'} | tables
    assert checkpoint_mismatches(small.state_dict(), big.state_dict(), False, adapted_state_keys(big)) == []
    big.load_state_dict(small.state_dict())
    src = small.blocks[2].rel_pos_bias.relative_position_bias_table.detach()
    got = big.blocks[2].rel_pos_bias.relative_position_bias_table.detach()
    torch.testing.assert_close(got[:-3].view(11, 11, 3), fit_offset_table(src[:-3].view(7, 7, 3), (11, 11)))
    torch.testing.assert_close(got[-3:], src[-3:])  # the cls rows as they are
    wrong_heads = {k: v[:, :2] if k in tables else v for k, v in small.state_dict().items()}
    with pytest.raises(ValueError, match=r'relative_position_bias_table: checkpoint shape \(52, 2\)'):
        big.load_state_dict(wrong_heads)


def test_relative_position_bias_starts_at_zero_and_changes_nothing_until_trained(tmp_path):
    pretraining_checkpoint(tmp_path / 'pre.pth')
    torch.manual_seed(0)
    with_bias = build_segmentor(shrunk_base_config(init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'pre.pth'), prefix='encoder.')))
    with_bias.init_weights()
    tables = [b.rel_pos_bias.relative_position_bias_table for b in with_bias.backbone.blocks]
    assert len(tables) == 6 and all(t.shape == (15 * 15 + 3, 3) and not t.any() for t in tables)

    without = build_segmentor(shrunk_base_config(rel_pos_bias=False))
    missing, unexpected = without.load_state_dict(with_bias.state_dict(), strict=False)
    assert not missing and all('relative_position_bias_table' in k for k in unexpected) and len(unexpected) == 6
    with_bias.eval(), without.eval()
    imgs, metas = torch.randn(2, 3, 64, 96), [dict(img_shape=(64, 96), pad_shape=(64, 96))] * 2
    with torch.no_grad():
        first = with_bias.encode_decode(imgs, metas)
        assert first.shape == (2, 150, 64, 96)
        torch.testing.assert_close(first, without.encode_decode(imgs, metas), atol=1e-5, rtol=1e-5)
        tables[2].data.normal_()  # a trained table does change the output
        assert not torch.allclose(with_bias.encode_decode(imgs, metas), first, atol=1e-3)


def test_backbone_with_checkpointing_computes_the_same_features_and_gradients():
    torch.manual_seed(0)
    model = SegViTBackbone(arch='tiny', patch_size=8, img_size=32, out_indices=(2, 5), drop_path_rate=0.0)
    for blk in model.blocks:
        blk.rel_pos_bias.relative_position_bias_table.data.normal_()
    imgs = torch.randn(2, 3, 32, 48)
    results = []
    for flag in (False, True):
        model.with_checkpoint = flag
        model.zero_grad()
        out = model(imgs)
        sum(f.square().mean() for f in out).backward()
        results.append((out, model.blocks[0].rel_pos_bias.relative_position_bias_table.grad.clone()))
    torch.testing.assert_close(results[0][0], results[1][0])
    torch.testing.assert_close(results[0][1], results[1][1])
    assert results[0][1].abs().sum() > 0


def test_bias_follows_autocast_into_attention():
    """Under bf16 autocast the bias is cast to the attention's dtype (SDPA refuses a mismatch)."""
    torch.manual_seed(0)
    model = SegViTBackbone(arch='tiny', patch_size=8, img_size=32, out_indices=(5,)).eval()
    for blk in model.blocks:
        blk.rel_pos_bias.relative_position_bias_table.data.normal_()
    imgs = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        full = model(imgs)[0]
        with torch.autocast('cpu', dtype=torch.bfloat16):
            half = model(imgs)[0]
    assert (full - half.float()).abs().mean() < 0.05 * full.abs().mean()


def test_backbone_rejects_out_of_range_out_indices():
    with pytest.raises(ValueError, match='out_indices'):
        SegViTBackbone(arch='tiny', patch_size=8, img_size=32, out_indices=(1, 6))


# ---- the neck: 1/16 maps -> 1/4, 1/8, 1/16, 1/32 ------------------------------------------------

@pytest.mark.parametrize('size', [(512, 512), (384, 640)], ids=['512', 'non-square'])
def test_neck_turns_one_stride_into_a_pyramid(size):
    cfg = shrunk_base_config(patch_size=16)  # the real configs' 16-pixel patches
    model = build_segmentor(cfg).eval()
    with torch.no_grad():
        feats = model.neck(model.backbone(torch.randn(1, 3, *size)))
    h, w = size
    assert [tuple(f.shape) for f in feats] == [(1, 192, h // s, w // s) for s in (4, 8, 16, 32)]


def test_neck_of_the_full_vit_b_config_keeps_768_channels():
    cfg = Config.fromfile(BASE)
    init_default_scope(cfg.default_scope)
    neck = revert_sync_batchnorm(MODELS.build(cfg.model.neck)).eval()
    with torch.no_grad():
        feats = neck([torch.randn(1, 768, 24, 40) for _ in range(4)])  # a 384 x 640 input
    assert [tuple(f.shape) for f in feats] == [(1, 768, 96, 160), (1, 768, 48, 80), (1, 768, 24, 40),
                                              (1, 768, 12, 20)]


def test_neck_has_a_norm_on_the_4x_and_the_2x_path():
    cfg = Config.fromfile(BASE)
    init_default_scope(cfg.default_scope)
    neck = MODELS.build(cfg.model.neck)
    assert type(neck.upsample_4x[1]).__name__ == type(neck.upsample_2x[1]).__name__ == 'SyncBatchNorm'
    neck = revert_sync_batchnorm(neck).train()
    up4, up2 = neck.upsample_4x, neck.upsample_2x
    conv_t, bn, gelu = torch.nn.ConvTranspose2d, torch.nn.modules.batchnorm._BatchNorm, torch.nn.GELU
    assert len(up4) == 4 and all(isinstance(m, t) for m, t in zip(up4, (conv_t, bn, gelu, conv_t)))
    assert len(up2) == 2 and all(isinstance(m, t) for m, t in zip(up2, (conv_t, bn)))
    assert up2[1].num_features == 768
    # a freshly built BN (weight 1, bias 0) in training mode: every channel of the 2x output has batch
    # mean 0 and (biased) variance 1, whatever the input's scale and offset
    x = 5.0 * torch.randn(2, 768, 6, 10) + 3.0
    out = neck([x] * 4)[1]
    torch.testing.assert_close(out.mean(dim=(0, 2, 3)), torch.zeros(768), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.var(dim=(0, 2, 3), unbiased=False), torch.ones(768), atol=1e-3, rtol=0)


def test_neck_without_the_2x_norm_is_mmseg_feature2pyramid():
    from mmseg.models.necks import Feature2Pyramid  # after mae_mm's transformers-5 shim (imported above)
    norm_cfg = dict(type='BN', requires_grad=True)
    torch.manual_seed(0)
    ours = NormedFeature2Pyramid(32, norm_cfg=norm_cfg, norm_2x=False).eval()
    ref = Feature2Pyramid(32, rescales=[4, 2, 1, 0.5], norm_cfg=norm_cfg).eval()
    assert ours.state_dict().keys() == ref.state_dict().keys()
    ref.load_state_dict(ours.state_dict())
    inputs = [torch.randn(1, 32, 3, 5) for _ in range(4)]
    with torch.no_grad():
        for a, b in zip(ours(inputs), ref(inputs)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    normed = NormedFeature2Pyramid(32, norm_cfg=norm_cfg)
    assert set(normed.state_dict()) - set(ref.state_dict()) == {
        f'upsample_2x.1.{k}' for k in ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')}


def test_neck_rejects_an_unknown_rescale():
    with pytest.raises(KeyError, match='invalid 3'):
        NormedFeature2Pyramid(32, rescales=(4, 3, 1, 0.5), norm_cfg=dict(type='BN'))


def test_every_parameter_of_the_segmentor_gets_a_gradient():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    model = build_segmentor(shrunk_base_config())
    model.train()
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 150, (1, 64, 64)))
        samples.append(sample)
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    assert set(losses) >= {'decode.loss_ce', 'aux.loss_ce'}
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    silent = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert not silent, silent


# ---- the configs carry the recipe ----------------------------------------------------------------

@pytest.mark.parametrize('path,arch,indices,width,channels,drop_path,decay', [
    (BASE, 'base', (3, 5, 7, 11), 768, 768, 0.1, 0.65),
    (LARGE, 'large', (7, 11, 15, 23), 1024, 1024, 0.2, 0.8),  # per size: tests/test_recipes.py
    (HUGE, 'huge', (7, 15, 23, 31), 1280, 1024, 0.3, 0.9),
], ids=['B', 'L', 'H'])
def test_ade20k_configs_carry_the_recipe(path, arch, indices, width, channels, drop_path, decay):
    cfg = Config.fromfile(path)
    model = cfg.model
    bb = model.backbone
    assert (bb.type, bb.arch, tuple(bb.out_indices), bb.drop_path_rate, bb.rel_pos_bias) == \
        ('mae_mm.SegViTBackbone', arch, indices, drop_path, True)
    assert tuple(bb.img_size) == (512, 512) and bb.get('patch_size', 16) == 16
    assert (bb.init_cfg.type, bb.init_cfg.prefix) == ('Pretrained', 'encoder.')
    assert arch in bb.init_cfg.checkpoint
    assert (model.neck.type, model.neck.embed_dim, list(model.neck.rescales), model.neck.norm_2x) == \
        ('mae_mm.NormedFeature2Pyramid', width, [4, 2, 1, 0.5], True)
    assert model.neck.norm_cfg == dict(type='SyncBN', requires_grad=True)
    assert (model.decode_head.type, list(model.decode_head.in_channels), model.decode_head.channels,
            model.decode_head.num_classes) == ('UPerHead', [width] * 4, channels, 150)
    aux = model.auxiliary_head
    assert (aux.type, aux.in_channels, aux.in_index, aux.num_classes, aux.loss_decode.loss_weight) == \
        ('FCNHead', width, 2, 150, 0.4)
    assert model.test_cfg == dict(mode='slide', crop_size=(512, 512), stride=(341, 341))

    ow = cfg.optim_wrapper
    assert (ow.type, ow.dtype, ow.constructor) == \
        ('mae_mm.build_amp_optim_wrapper', 'bfloat16', 'mae_mm.ViTLayerDecayOptimWrapperConstructor')
    assert (ow.optimizer.type, ow.optimizer.lr, tuple(ow.optimizer.betas), ow.optimizer.weight_decay) == \
        ('AdamW', 1e-4, (0.9, 0.999), 0.05)
    assert ow.paramwise_cfg.layer_decay_rate == decay
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end, warmup.by_epoch) == ('LinearLR', 0, 1500, False)
    assert (poly.type, poly.power, poly.eta_min, poly.begin, 'end' in poly, poly.by_epoch) == \
        ('PolyLR', 1.0, 0.0, 1500, False, False)  # poly ends with the run (train_cfg.max_iters)
    assert (cfg.train_cfg.type, cfg.train_cfg.max_iters) == ('mae_mm.ResumableIterBasedTrainLoop', 160000)
    assert cfg.train_dataloader.batch_size * 8 == 16

    train = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert (train['RandomResize'].scale, train['RandomResize'].ratio_range) == ((2048, 512), (0.5, 2.0))
    assert train['RandomCrop'].crop_size == (512, 512) and 'PhotoMetricDistortion' in train
    assert train['LoadAnnotations'].reduce_zero_label and cfg.train_dataloader.dataset.type == 'ADE20KDataset'
    assert (cfg.test_evaluator.type, cfg.test_evaluator.iou_metrics) == ('IoUMetric', ['mIoU'])
    assert cfg.default_scope == 'mmseg'


def test_multi_scale_flip_config_wraps_the_single_scale_model():
    single, cfg = Config.fromfile(BASE), Config.fromfile(MS_FLIP)
    assert cfg.model.type == 'SegTTAModel' and cfg.model.module == single.model
    load, tta = cfg.test_dataloader.dataset.pipeline
    scales, flips, annotations, pack = tta.transforms
    assert [t.scale for t in scales] == [(int(2048 * r), int(512 * r)) for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)]
    assert [t.prob for t in flips] == [0.0, 1.0]
    assert annotations[0].reduce_zero_label


def test_layer_decay_puts_each_bias_table_in_its_block_without_weight_decay():
    cfg = shrunk_base_config()
    model = build_segmentor(cfg)
    groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
    group_of = {name: g for g in groups for name in g['param_names']}
    for i in (0, 5):
        g = group_of[f'backbone.blocks.{i}.rel_pos_bias.relative_position_bias_table']
        assert (g['layer_id'], g['weight_decay']) == (i + 1, 0.0)
        assert g['lr'] == pytest.approx(1e-4 * 0.65 ** (6 - i))
    for name in ('backbone.pos_embed', 'backbone.cls_token'):
        assert (group_of[name]['layer_id'], group_of[name]['weight_decay']) == (0, 0.0)
    head = group_of['decode_head.conv_seg.weight']
    assert (head['lr'], head['weight_decay']) == (pytest.approx(1e-4), 0.05)
    assert group_of['neck.upsample_4x.0.weight']['lr'] == pytest.approx(1e-4)
    for name in ('neck.upsample_4x.1.weight', 'neck.upsample_2x.1.weight', 'neck.upsample_2x.1.bias'):
        assert (group_of[name]['lr'], group_of[name]['weight_decay']) == (pytest.approx(1e-4), 0.0)


def test_the_position_grid_is_set_by_img_size_here_and_the_other_grid_keys_are_refused():
    assert SegViTBackbone(arch='tiny', patch_size=8, img_size=(32, 48), out_indices=(5,)).grid_size == (4, 6)
    for key in ('pretrain_img_size', 'pos_embed_img_size'):
        with pytest.raises(TypeError, match=f"SegViTBackbone: '{key}' is no longer an argument: .*img_size"):
            SegViTBackbone(arch='tiny', patch_size=8, img_size=32, out_indices=(5,), **{key: 224})
    with pytest.raises(ValueError, match=r'^img_size \(30, 30\) is not divisible by patch_size 8'):
        SegViTBackbone(arch='tiny', patch_size=8, img_size=30, out_indices=(5,))
