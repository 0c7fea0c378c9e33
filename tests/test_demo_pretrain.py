"""The demo pretraining through the real runner: it learns, saves, reloads and draws."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from PIL import Image

from conftest import DEMO_PRETRAIN, ROOT, read_scalars, run_tool
from helpers.panel_checks import generator_mask, grey_patches

pytestmark = pytest.mark.slow  # every test here runs the tools


def test_demo_data_has_the_imagenet_layout(demo_data):
    for split, per_class in (('train', 80), ('val', 20)):
        for cls in ('photo', 'disks', 'stripes', 'checkers', 'triangles'):
            folder = osp.join(demo_data, 'imagenet', split, cls)
            files = sorted(f for f in __import__('os').listdir(folder) if f.endswith('.JPEG'))
            assert len(files) == per_class
            with Image.open(osp.join(folder, files[0])) as img:
                assert img.format == 'JPEG' and img.mode == 'RGB'


def test_demo_pretraining_lowers_the_loss(demo_pretrain):
    records = read_scalars(demo_pretrain)
    train = [r['loss'] for r in records if 'loss' in r]
    assert len(train) >= 20, 'the loss curve is logged often enough to see'
    head, tail = sum(train[:3]) / 3, sum(train[-3:]) / 3
    assert tail < 0.8 * head, f'training loss did not drop: {head:.3f} -> {tail:.3f}'


def test_checkpoint_reloads_to_the_same_loss_and_beats_an_untrained_model(demo_pretrain, tmp_path):
    records = read_scalars(demo_pretrain)
    val = [r['recon/mse'] for r in records if 'recon/mse' in r]
    assert val, 'the demo validates during training'
    ckpt = open(osp.join(demo_pretrain, 'last_checkpoint')).read().strip()
    assert osp.basename(ckpt) == 'epoch_40.pth'
    out = tmp_path / 'metrics.json'
    run_tool('tools/test.py', DEMO_PRETRAIN, ckpt, '--work-dir', str(tmp_path), '--out', str(out))
    reloaded = json.load(open(out))['recon/mse']
    assert abs(reloaded - val[-1]) < 1e-5, f'reloaded {reloaded} != trained {val[-1]}'

    # the same evaluation of a freshly initialised model
    cfg = Config.fromfile(osp.join(ROOT, DEMO_PRETRAIN))
    cfg.work_dir = str(tmp_path / 'untrained')
    try:
        untrained = Runner.from_cfg(cfg).test()['recon/mse']
    finally:
        DefaultScope._instance_dict.clear()
    assert reloaded < 0.8 * untrained, f'trained {reloaded:.3f} vs untrained {untrained:.3f}'


def test_visualisation_draws_four_panels_per_image(demo_pretrain, demo_data, tmp_path):
    ckpt = open(osp.join(demo_pretrain, 'last_checkpoint')).read().strip()
    images = [osp.join(demo_data, 'imagenet', 'val', c, f'{c}_0000.JPEG') for c in ('photo', 'disks')]
    out = tmp_path / 'recon.png'
    run_tool('tools/visualize_reconstruction.py', DEMO_PRETRAIN, ckpt, *images, '--out', str(out), '--seed', '1')
    with Image.open(out) as img:
        width, height = img.size
    assert width >= 4 * 64 and height >= 2 * 64
    # the grey patches of the tool's panel (seed 1) and of the last one the training hook drew (4 images,
    # seed 0) are the default mask generator's (random) masks for those seeds
    [hook_png] = glob.glob(osp.join(demo_pretrain, '*', 'vis_data', 'vis_image', 'reconstruction_40.png'))
    for png, num, seed in ((str(out), 2, 1), (hook_png, 4, 0)):
        expected = generator_mask(dict(type='RandomMasking'), num, grid=8, ratio=0.75, seed=seed)
        assert torch.equal(grey_patches(png, num, grid=8, patch_px=8), expected), png
