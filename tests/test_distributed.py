"""Two gloo processes train the demo pretraining like one process with the same total batch.

The runs differ only in how the gradient is summed: one process over 16 images, or two over 8
each and gloo's all-reduce. That changes the float32 summation order, so the gradients agree to
about 1e-7 relative, not bit for bit. The comparison is made under plain SGD (no momentum, no
weight decay), where the final weights are ``w0 - lr * sum_t g_t``: a gradient difference of
relative size e moves a weight by about ``lr * steps * e * |g|``, far below the tolerances
below. Under AdamW an element whose gradient is near zero has its update divided by a
near-zero second moment, so a 1e-7 difference in summation order can flip it by up to ``lr``
per step: a relative difference of order 1 that says nothing about the data or the averaging.
A wrong data order or a missing gradient average moves the SGD weights by ``lr * |g|`` per
step, orders of magnitude above the tolerance.
"""
import os.path as osp

import pytest
import torch

from conftest import ROOT, read_scalars, scalars_by_step
from reliability_utils import derived_config, free_port, run, short_schedule

# Deterministic inputs, so that the comparison isolates gradient averaging, data sharding and the
# lr scaling: centre crops instead of random ones, masking noise seeded by each sample's index
# (tests/helpers/mae_mm_faults.py); 64 images, total batch 16, 2 epochs = 8 steps; plain SGD
# (see the module docstring), lr 0.5 x 16 / 256 after mmengine's batch scaling.
DETERMINISTIC = """
optim_wrapper = dict(optimizer=dict(_delete_=True, type='SGD', lr=0.5, momentum=0.0, weight_decay=0.0))
model = dict(type='SampleSeededMaskedAutoencoder',  # its noise needs the data samples, which this keeps
             data_preprocessor=dict(_delete_=True, type='mmpretrain.ClsDataPreprocessor',
                                    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True))
train_cfg = dict(max_epochs=2, val_interval=100)
train_dataloader = dict(
    batch_size={batch}, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
    dataset=dict(indices=64, pipeline=[
        dict(type='LoadCheckedImage'),
        dict(type='mmpretrain.ResizeEdge', scale=73, edge='short', backend='pillow', interpolation='bicubic'),
        dict(type='mmpretrain.CenterCrop', crop_size=64),
        dict(type='mmpretrain.PackInputs'),
    ]))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
log_processor = dict(window_size=1)
""" + short_schedule(2)



@pytest.mark.slow
def test_two_gloo_processes_match_one_process(demo_data, tmp_path):
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    # one thread per process in both runs: the intra-op summation order is then fixed too
    run('tools/train.py', derived_config(tmp_path, 'one', DETERMINISTIC.format(batch=16)), '--work-dir', one,
        threads=1)
    proc = run('tools/dist_train.sh', derived_config(tmp_path, 'two', DETERMINISTIC.format(batch=8)), '2',
               '--work-dir', two, threads=1, env={'PORT': str(free_port())})
    assert 'nccl -> gloo' in proc.stdout + proc.stderr

    single, dist = read_scalars(one), read_scalars(two)
    # the lr is scaled by the total batch: 16 images, on 1 process or on 2
    assert 'the current batch size is 16' in proc.stdout + proc.stderr
    assert scalars_by_step(single, 'lr') == pytest.approx(scalars_by_step(dist, 'lr'), rel=1e-12)
    losses_one, losses_two = scalars_by_step(single, 'loss'), scalars_by_step(dist, 'loss')
    assert sorted(losses_two) == list(range(1, 9))
    for step in losses_one:
        assert losses_two[step] == pytest.approx(losses_one[step], rel=1e-5, abs=1e-6), f'step {step}'
    # a falling loss shows the steps did something, and the final weights agree; the
    # checkpoint holds both ranks' random states
    assert losses_one[8] < losses_one[1]
    w_one = torch.load(osp.join(one, 'epoch_2.pth'), map_location='cpu', weights_only=True)['state_dict']
    w_mid = torch.load(osp.join(one, 'epoch_1.pth'), map_location='cpu', weights_only=True)['state_dict']
    w_two = torch.load(osp.join(two, 'epoch_2.pth'), map_location='cpu', weights_only=True)['state_dict']
    assert len(torch.load(osp.join(two, 'epoch_2.pth'), map_location='cpu', weights_only=True)
               ['random_states']) == 2
    assert w_one.keys() == w_two.keys()
    moved = 0.0
    for key in w_one:
        torch.testing.assert_close(w_two[key], w_one[key], rtol=1e-5, atol=1e-6, msg=key)
        moved = max(moved, (w_one[key].float() - w_mid[key].float()).abs().max().item())
    # the tolerance is far below what one epoch of training moved: the check can tell a wrong step apart
    assert moved > 1e-3


def test_cpu_distributed_runs_syncbn_as_bn():
    """torch's SyncBatchNorm has no CPU implementation: a CPU distributed ADE20K run uses BN."""
    from mmengine.config import Config

    from mae_mm.launch.cpu_distributed import sync_bn_to_bn
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'demo', 'upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py'))
    before = str(cfg.model).count("'SyncBN'")
    assert before > 0 and sync_bn_to_bn(cfg.model) == before
    assert 'SyncBN' not in str(cfg.model) and "'BN'" in str(cfg.model)
