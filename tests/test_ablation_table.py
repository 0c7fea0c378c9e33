"""The README's "The paper's ablations as configs": every key and value the table names builds the demo
pretraining model (or, for the fine-tuning rows, the shipped leaf's backbone) and does what the row says."""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import DEMO_PRETRAIN, ROOT
from mae_mm.registry import MODELS

README = open(osp.join(ROOT, 'README.md')).read()
SECTION = README[README.index("## The paper's ablations as configs"):README.index('## Transfer benchmarks')]

# row -> (--cfg-options as the table names them, a check of the built MaskedAutoencoder)
PRETRAIN_ROWS = {
    '(a) decoder depth 1': ({'model.decoder.depth': 1}, lambda m: len(m.decoder.blocks) == 1),
    '(b) decoder width 128': ({'model.decoder.embed_dim': 128}, lambda m: m.decoder.embed.out_features == 128),
    '(c) mask token': ({'model.encoder.with_mask_token': True},
                       lambda m: m.encoder.mask_token.shape[-1] == m.encoder.embed_dim and m.decoder.takes_all_tokens),
    '(d) unnormalised pixels': ({'model.target.type': 'PixelTarget'},
                                lambda m: type(m.target).__name__ == 'PixelTarget'),
    "(d') HOG": ({'model.target.type': 'HOGTarget'}, lambda m: m.decoder.pred.out_features == 9 * 3),
    '(f) block 50%': ({'model.encoder.mask_generator.type': 'BlockwiseMasking', 'model.encoder.mask_ratio': 0.5},
                      lambda m: type(m.encoder.mask_generator).__name__ == 'BlockwiseMasking'),
    '(f) grid 75%': ({'model.encoder.mask_generator.type': 'GridMasking'},
                     lambda m: type(m.encoder.mask_generator).__name__ == 'GridMasking'),
    'partial decoding': ({'model.decoder.decode_fraction': 0.5}, lambda m: m.decoder.decode_fraction == 0.5),
}


def built_demo(options):
    cfg = Config.fromfile(osp.join(ROOT, DEMO_PRETRAIN))
    cfg.merge_from_dict(options)
    with DefaultScope.overwrite_default_scope('mae_mm'):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('row', list(PRETRAIN_ROWS))
def test_each_pretraining_row_builds_does_what_it_says_and_trains_a_step(row):
    options, check = PRETRAIN_ROWS[row]
    for key, value in options.items():
        assert f'`{key}' in SECTION and str(value) in SECTION, (key, value)
    model = built_demo(options)
    assert check(model), row
    torch.manual_seed(0)
    imgs = torch.randn(2, 3, 64, 64)
    model.train()
    loss = model.loss(imgs)['loss']
    loss.backward()
    assert torch.isfinite(loss)


def named_configs():
    """The config files the section names, ``{a,b}`` alternatives expanded."""
    names = []
    for path in re.findall(r'`(configs/[^`]+?\.py)`', SECTION):
        match = re.search(r'\{([^}]+)\}', path)
        names += [path[:match.start()] + alt + path[match.end():] for alt in match.group(1).split(',')] if match \
            else [path]
    return names


def test_the_table_names_every_leaf_of_the_ablations():
    leaves = set(named_configs())
    assert {f'configs/finetune/vit-large-p16_8xb128-partial-last{k}blk-coslr-50e_in1k.py'
            for k in (1, 2, 4, 6, 12, 18)} <= leaves
    assert {f'configs/pretrain/mae_vit-large-p16_8xb512-amp-aug-{v}-coslr-800e_in1k.py'
            for v in ('none', 'fixedcrop', 'rrcjitter')} <= leaves
    assert len(leaves) == 11, sorted(leaves)


@pytest.mark.parametrize('leaf', named_configs())
def test_each_named_leaf_exists_and_states_its_row(leaf):
    cfg = Config.fromfile(osp.join(ROOT, leaf))
    name = osp.basename(leaf)
    if 'partial-last' in name:
        part = name.split('partial-last')[1].split('-')[0]  # '4blk' or '1mlp'
        assert cfg.model.backbone.trainable_blocks == int(part[:-3])
        assert cfg.model.backbone.get('trainable_block_parts', 'all') == ('mlp' if part.endswith('mlp') else 'all')
    elif '-aug-' in name:
        assert cfg.model.encoder.arch == 'large'
        assert cfg.train_dataloader.dataset.pipeline != Config.fromfile(
            osp.join(ROOT, 'configs/pretrain/mae_vit-large-p16_8xb512-amp-coslr-800e_in1k.py')
        ).train_dataloader.dataset.pipeline
    else:
        assert cfg.model.backbone.frozen  # the 0-block point: the linear probe
