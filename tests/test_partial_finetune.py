"""Partial fine-tuning (the paper's Fig. 9): the trainable parameters, the optimizer groups of the
real layer-decay constructor, the frozen parts in eval mode, the configs of the figure's points."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
from mae_mm.models.cls import ViTClsBackbone
from mae_mm.registry import MODELS

from conftest import ROOT

FINETUNE = osp.join(ROOT, 'configs', 'finetune')
FINETUNE_L = osp.join(FINETUNE, 'vit-large-p16_8xb128-coslr-50e_in1k.py')
LAST1 = osp.join(FINETUNE, 'vit-large-p16_8xb128-partial-last1blk-coslr-50e_in1k.py')
LAST1_MLP = osp.join(FINETUNE, 'vit-large-p16_8xb128-partial-last1mlp-coslr-50e_in1k.py')
PARTIAL = sorted(glob.glob(osp.join(FINETUNE, '*-partial-*.py')))
DEPTH, DECAY, BLR, WD = 6, 0.75, 1e-3, 0.05  # the tiny ViT; ViT-L's recipe (Table 9)


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def build_tiny(path, **backbone):
    """The shipped config with its ViT shrunk to the tiny preset (6 blocks, 32 px, 8 px patches)."""
    cfg = Config.fromfile(path)
    cfg.model.backbone.update(arch='tiny', img_size=32, patch_size=8, init_cfg=None, **backbone)
    cfg.model.head.in_channels = 192
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def block_params(i, *parts):
    names = dict(norm1=('weight', 'bias'), attn=('qkv.weight', 'qkv.bias', 'proj.weight', 'proj.bias'),
                 norm2=('weight', 'bias'), mlp=('fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'))
    return {f'backbone.blocks.{i}.{part}.{leaf}' for part in parts for leaf in names[part]}


AFTER_BLOCKS = {'backbone.fc_norm.weight', 'backbone.fc_norm.bias', 'head.fc.weight', 'head.fc.bias'}
LAST = DEPTH - 1


def expected_groups(trainable):
    """The layer-decay groups of ``trainable``, from the paper's rule: the last block is layer L, fc_norm
    and the head L + 1 (scale decay^(L + 1 - layer)); no weight decay on 1-D parameters."""
    groups = []
    for layer, names in ((DEPTH, {n for n in trainable if '.blocks.' in n}), (DEPTH + 1, trainable & AFTER_BLOCKS)):
        one_d = {n for n in names if n.endswith('bias') or '.norm' in n or 'fc_norm' in n}
        scale = DECAY ** (DEPTH + 1 - layer)
        groups += [(sorted(names - one_d), scale, BLR * scale, WD), (sorted(one_d), scale, BLR * scale, 0.0)]
    return groups


@pytest.mark.parametrize('path,trainable', [
    (LAST1, block_params(LAST, 'norm1', 'attn', 'norm2', 'mlp') | AFTER_BLOCKS),
    (LAST1_MLP, block_params(LAST, 'norm2', 'mlp') | AFTER_BLOCKS),
], ids=['last1blk', 'last1mlp'])
def test_exact_trainable_parameters_and_optimizer_groups(path, trainable):
    model, wrapper = build_tiny(path)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == trainable
    groups = [(sorted(g['param_names']), g['lr_scale'], g['lr'], g['weight_decay'])
              for g in wrapper.optimizer.param_groups]
    assert groups == expected_groups(trainable)
    # every trainable parameter, and nothing frozen, receives a gradient
    model.train()
    feats = model.extract_feat(torch.randn(2, 3, 32, 32))
    model.head.loss(feats, [_sample(1), _sample(3)])['loss'].backward()
    assert {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0} == trainable


def _sample(label):
    from mmpretrain.structures import DataSample
    return DataSample().set_gt_label(label)


def test_frozen_parts_stay_in_eval_mode_while_the_model_trains():
    model, _ = build_tiny(LAST1_MLP, drop_path_rate=0.5)
    model.train()
    vit = model.backbone
    frozen = [vit.patch_embed, *vit.blocks[:LAST], vit.blocks[LAST].norm1, vit.blocks[LAST].attn,
              vit.blocks[LAST].drop_path1]
    assert not any(m.training for part in frozen for m in part.modules())
    assert vit.blocks[LAST].mlp.training and vit.blocks[LAST].drop_path2.training and vit.fc_norm.training
    assert model.head.training
    # the frozen blocks' drop path is off: their output is the same on every call; the trainable MLP's is on
    outs = []
    vit.blocks[LAST - 1].register_forward_hook(lambda m, i, o: outs.append(o))
    torch.manual_seed(0)
    x = torch.randn(16, 3, 32, 32)  # 16 samples: the last MLP drops the same ones twice with p = 2^-16
    first, second = vit(x)[0], vit(x)[0]
    torch.testing.assert_close(outs[0], outs[1])
    assert not torch.equal(first, second), 'the last MLP keeps its drop path while training'


def test_layer_decay_works_for_every_number_of_trainable_blocks():
    for k in range(DEPTH + 1):
        model, wrapper = build_tiny(LAST1, trainable_blocks=k)
        layer_of = {n: g['layer_id'] for g in wrapper.optimizer.param_groups for n in g['param_names']}
        assert set(layer_of) == {n for n, p in model.named_parameters() if p.requires_grad}
        assert set(layer_of.values()) == set(range(DEPTH + 1 - k, DEPTH + 2)), k
        for g in wrapper.optimizer.param_groups:  # the scales of full fine-tuning: L is the model's depth
            assert g['lr_scale'] == DECAY ** (DEPTH + 1 - g['layer_id'])


def test_a_partial_fine_tune_outside_the_depth_is_refused_when_the_model_is_built():
    cfg = Config.fromfile(LAST1)
    init_default_scope(cfg.default_scope)
    for k in (25, -1, True, 1.5):
        cfg.model.backbone.trainable_blocks = k
        with pytest.raises(ValueError, match=r'trainable_blocks must be an integer in \[0, 24\]'):
            MODELS.build(cfg.model)
    tiny = dict(arch='tiny', img_size=32, patch_size=8)
    with pytest.raises(ValueError, match=r"trainable_block_parts must be one of \('all', 'mlp'\)"):
        ViTClsBackbone(trainable_blocks=1, trainable_block_parts='attn', **tiny)
    with pytest.raises(ValueError, match=r"trainable_block_parts='mlp' needs trainable_blocks in \[1, 6\]"):
        ViTClsBackbone(trainable_blocks=0, trainable_block_parts='mlp', **tiny)
    with pytest.raises(ValueError, match="trainable_block_parts='mlp' needs trainable_blocks"):
        ViTClsBackbone(trainable_block_parts='mlp', **tiny)
    with pytest.raises(ValueError, match='frozen=True freezes every block'):
        ViTClsBackbone(frozen=True, trainable_blocks=1, out_type='cls_token', **tiny)


def test_the_figures_points_are_leaves_stating_only_k():
    """Fig. 9's points 1, 2, 4, 6, 12, 18 and the last block's MLP: each leaf is the ViT-L recipe with
    only trainable_blocks (and trainable_block_parts) added; the epochs are the sweep's 50 by default."""
    full = Config.fromfile(FINETUNE_L).to_dict()
    points = set()
    for path in PARTIAL:
        cfg = Config.fromfile(path).to_dict()
        backbone = cfg['model']['backbone']
        points.add((backbone.pop('trainable_blocks'), backbone.pop('trainable_block_parts', 'all')))
        assert cfg == full, osp.basename(path)
    assert points == {(1, 'all'), (2, 'all'), (4, 'all'), (6, 'all'), (12, 'all'), (18, 'all'), (1, 'mlp')}
    with open(LAST1) as f:
        text = f.read()
    assert '{50, 100, 200}' in text and '--cfg-options train_cfg.max_epochs=100' in text
