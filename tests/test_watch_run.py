"""Watching a run: the kNN classifier, the kNN probe's refusals, --vis backends, and a short
training with --vis tensorboard whose event file holds the scalars and the reconstruction panel, and
whose losses and weights equal those of the same run without the two hooks."""
import json
import math
import os
import os.path as osp
import shutil
import sys

import mmcv
import numpy as np
import pytest
import torch

from conftest import read_scalars, scalars_by_step
from mae_mm.engine import KNNProbeHook
from mae_mm.evaluation import knn_predict, knn_top1
from mae_mm.suite.report.curves import read_run
from mae_mm.visualization import vis_backend_configs
from mmengine.config import Config
from reliability_utils import DEMO_PRETRAIN, derived_config, run, short_schedule

T = 0.07


def test_knn_two_separated_clusters_give_100_percent():
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    train = torch.cat([centres[0] + 0.05 * torch.randn(30, 3, generator=gen),
                       centres[1] + 0.05 * torch.randn(30, 3, generator=gen)])
    test = torch.cat([centres[0] + 0.05 * torch.randn(10, 3, generator=gen),
                      centres[1] + 0.05 * torch.randn(10, 3, generator=gen)])
    labels = torch.tensor([0] * 30 + [1] * 30)
    assert knn_top1(train, labels, test, torch.tensor([0] * 10 + [1] * 10), k=20, temperature=T) == 100.0


def test_knn_weighted_vote_by_hand():
    # unit train vectors at angles 0, 60 and 100 degrees (classes 0, 1, 1); the test vector at 20
    # degrees has similarities cos 20 = 0.940, cos 40 = 0.766, cos 80 = 0.174
    angles = torch.tensor([0.0, 60.0, 100.0]) * math.pi / 180
    train = torch.stack([angles.cos(), angles.sin()], 1)
    labels = torch.tensor([0, 1, 1])
    test = torch.tensor([[math.cos(math.pi / 9), math.sin(math.pi / 9)]])
    # k=2: neighbours 0 (class 0, weight e^(0.940/T)) and 1 (class 1, e^(0.766/T)): class 0
    assert knn_predict(train, labels, test, k=2, temperature=T).tolist() == [0]
    # k=3 at T=0.07: class 1 gets e^(0.766/T) + e^(0.174/T) = 5.6e4 + 12 < e^(0.940/T) = 6.6e5: still 0;
    # at T=10 the weights are nearly equal and two votes beat one: class 1
    assert knn_predict(train, labels, test, k=3, temperature=T).tolist() == [0]
    assert knn_predict(train, labels, test, k=3, temperature=10.0).tolist() == [1]
    # two test points, one right (class 0) and one at 80 degrees, nearest to 60 and 100: class 1,
    # labelled 0 -> 50%
    tests = torch.stack([test[0], torch.tensor([math.cos(4 * math.pi / 9), math.sin(4 * math.pi / 9)])])
    assert knn_top1(train, labels, tests, torch.tensor([0, 0]), k=2, temperature=T) == 50.0


def test_probe_features_are_the_unmasked_encoders_cls_token_or_patch_mean():
    """Against the pretraining forward with nothing dropped (mask ratio 0, noise in token order):
    the cls token, or the mean of the L patch tokens, of the final norm's output."""
    from mae_mm.engine.knn_probe_hook import encoder_features
    from mae_mm.models import MAEEncoder

    torch.manual_seed(0)
    encoder = MAEEncoder(arch=dict(embed_dim=32, depth=2, num_heads=4, mlp_ratio=2.0, patch_size=8),
                         pretrain_img_size=32).eval()
    imgs = torch.randn(3, 3, 32, 32)
    encoder.mask_ratio = 0.0  # the constructor refuses it; here it keeps all 16 tokens
    with torch.no_grad():
        latent, mask, _ = encoder(imgs, noise=torch.arange(16.0).expand(3, 16))
        assert latent.shape == (3, 17, 32) and not mask.any()
        torch.testing.assert_close(encoder_features(encoder, imgs, 'cls_token'), latent[:, 0])
        torch.testing.assert_close(encoder_features(encoder, imgs, 'mean_patch'), latent[:, 1:].mean(1))
    with pytest.raises(ValueError, match="feature must be one of .*'mean_patch'"):
        KNNProbeHook(train_dataset={}, val_dataset={}, feature='mean')


def knn_hook(tmp_path, train_dataset, num_train=10, **kwargs):
    val = dict(type='mmpretrain.CustomDataset', data_root='data/demo/imagenet', data_prefix='val', pipeline=[])
    return KNNProbeHook(train_dataset=train_dataset, val_dataset=val, num_train=num_train, num_val=5, **kwargs)


def test_knn_subset_larger_than_the_data_set_is_refused(demo_data, tmp_path):
    train = dict(type='mmpretrain.CustomDataset', data_root='data/demo/imagenet', data_prefix='train', pipeline=[])
    assert len(knn_hook(tmp_path, train, num_train=400).subsets['train']) == 400
    with pytest.raises(ValueError, match=r'num_train=401 is larger than the data set \(400 images\)'):
        knn_hook(tmp_path, train, num_train=401)


def test_knn_refuses_images_without_labels(demo_data, tmp_path):
    flat = tmp_path / 'flat'
    flat.mkdir()
    for name in ('photo_0000', 'disks_0000'):
        shutil.copy(osp.join(demo_data, 'imagenet', 'val', name.split('_')[0], f'{name}.JPEG'), flat)
    unlabelled = dict(type='mmpretrain.CustomDataset', data_root=str(flat), with_label=False, pipeline=[])
    with pytest.raises(ValueError, match='has no labels'):
        knn_hook(tmp_path, unlabelled, num_train=2)
    # a flat folder read as class folders
    with pytest.raises(ValueError, match='could not be read as a labelled data set'):
        knn_hook(tmp_path, dict(unlabelled, with_label=True), num_train=2)


def test_vis_backend_with_its_package_missing_names_the_extra(monkeypatch):
    assert vis_backend_configs('local') == [dict(type='LocalVisBackend')]
    assert vis_backend_configs('tensorboard') == [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)  # the import now fails
    with pytest.raises(ImportError, match=r'pip install -e \.\[tensorboard\]'):
        vis_backend_configs('tensorboard')
    monkeypatch.setitem(sys.modules, 'wandb', None)
    with pytest.raises(ImportError, match=r'pip install -e \.\[wandb\]'):
        vis_backend_configs('wandb')


# 64 images, batch 32: 2 iterations per epoch, 2 epochs; kNN at epoch 0, 1 and 2 on small subsets;
# the panel, of the 3 images of a flat folder (no labels), after each epoch
SHORT = """
train_cfg = dict(max_epochs=2, val_interval=10)
train_dataloader = dict(num_workers=0, dataset=dict(indices=64))
default_hooks = dict(logger=dict(interval=1))
""" + short_schedule(2)


@pytest.mark.slow
def test_tensorboard_run_has_scalars_and_the_cli_panel(demo_data, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    flat = tmp_path / 'flat'
    flat.mkdir()
    images = []
    for cls in ('photo', 'stripes', 'triangles'):
        images.append(shutil.copy(osp.join(demo_data, 'imagenet', 'val', cls, f'{cls}_0001.JPEG'), flat))
    base = Config.fromfile(DEMO_PRETRAIN)
    knn = dict(base.custom_hooks[-1], interval=1, num_train=40, num_val=20)
    recon = dict(type='mae_mm.ReconstructionVisHook', interval=1, num_images=3, seed=5,
                 dataset=dict(type='mmpretrain.CustomDataset', data_root=str(flat), with_label=False,
                              pipeline=base.test_pipeline))
    cfg = derived_config(tmp_path, 'short', SHORT)
    # the demo's own hooks but these two, which the test shortens
    hooks = [h for h in base.custom_hooks if h['type'] not in ('mae_mm.KNNProbeHook', 'mae_mm.ReconstructionVisHook')]
    with open(cfg, 'a') as f:
        f.write(f'custom_hooks = {[dict(h) for h in hooks] + [recon, knn]!r}\n')
    work_dir = str(tmp_path / 'run')
    run('tools/train.py', cfg, '--work-dir', work_dir, '--vis', 'tensorboard', threads=1)

    [events] = [osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs if f.startswith('events.out')]
    acc = EventAccumulator(events, size_guidance={'images': 0, 'scalars': 0})
    acc.Reload()
    tags = acc.Tags()
    assert {'loss', 'lr', 'knn/top1'} <= set(tags['scalars']), tags['scalars']
    assert [e.step for e in acc.Scalars('loss')] == [1, 2, 3, 4]
    assert [e.step for e in acc.Scalars('knn/top1')] == [0, 1, 2]  # epochs, as mmengine's val metrics
    assert all(0 <= e.value <= 100 for e in acc.Scalars('knn/top1'))
    records = read_scalars(work_dir)
    assert [r['step'] for r in records if 'knn/top1' in r] == [0, 1, 2]
    assert 'reconstruction' in tags['images']
    shown = acc.Images('reconstruction')
    assert [e.step for e in shown] == [1, 2]
    final = mmcv.imfrombytes(shown[-1].encoded_image_string, channel_order='rgb')

    # the CLI tool's panel of the final checkpoint, the same images and noise seed
    out = str(tmp_path / 'cli.png')
    run('tools/visualize_reconstruction.py', cfg, osp.join(work_dir, 'epoch_2.pth'), *sorted(images), '--out', out,
        '--seed', '5')
    cli = mmcv.imread(out, channel_order='rgb')
    assert cli.shape == final.shape == (3 * (192 + 4) + 18, 4 * (192 + 4), 3)  # 64 px x 3, padded, titled
    np.testing.assert_array_equal(cli, final)
    [local] = [osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs if f == 'reconstruction_2.png']
    np.testing.assert_array_equal(mmcv.imread(local, channel_order='rgb'), cli)

    # the same run without the two hooks: the same losses and weights, bit for bit, although the
    # hooks ran (and built DataLoaders, which draw from torch's generator) before and between epochs
    bare = derived_config(tmp_path, 'bare', SHORT)
    with open(bare, 'a') as f:
        f.write(f'custom_hooks = {[dict(h) for h in hooks]!r}\n')
    bare_dir = str(tmp_path / 'bare_run')
    run('tools/train.py', bare, '--work-dir', bare_dir, threads=1)
    assert scalars_by_step(read_scalars(bare_dir), 'loss') == scalars_by_step(records, 'loss')
    watched, unwatched = (torch.load(osp.join(d, 'epoch_2.pth'), map_location='cpu', weights_only=True)['state_dict']
                          for d in (work_dir, bare_dir))
    assert all(torch.equal(watched[k], unwatched[k]) for k in unwatched)


def test_plot_curves_merges_a_resumed_run_and_puts_metrics_at_iterations(tmp_path):
    # 3 iterations per epoch, logged every 2; killed in epoch 2 and resumed from epoch 1's end
    first = [dict(lr=0.1, loss=5.0, epoch=1, iter=2, step=2), {'knn/top1': 40.0, 'step': 0},
             {'knn/top1': 41.0, 'step': 1}, dict(lr=0.1, loss=4.0, epoch=2, iter=4, step=4)]
    second = [dict(lr=0.1, loss=3.5, epoch=2, iter=4, step=4), dict(lr=0.1, loss=3.0, epoch=2, iter=6, step=6),
              {'knn/top1': 45.0, 'step': 2}]
    for stamp, records in (('20260101_000000', first), ('20260101_010000', second)):
        folder = tmp_path / stamp / 'vis_data'
        folder.mkdir(parents=True)
        (folder / 'scalars.json').write_text(''.join(f'{json.dumps(r)}\n' for r in records))
    curves = read_run(str(tmp_path))
    assert curves['loss'] == {2: 5.0, 4: 3.5, 6: 3.0}
    assert curves['knn/top1'] == {0: 40.0, 3: 41.0, 6: 45.0}
