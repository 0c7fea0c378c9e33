"""A NaN loss stops the run naming the iteration and the loss terms, or skips the step."""
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict

from conftest import read_scalars
from mae_mm.engine import NonFiniteLossHook, SkipNonFiniteOptimWrapper
from mae_mm.engine.resume import checkpoint_problem
from reliability_utils import derived_config, free_port, run, short_schedule

# 96 images, batch 32: 3 iterations per epoch, a checkpoint after each epoch
SHORT_RUN = """
train_cfg = dict(max_epochs=2, val_interval=100)
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(indices=96))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1))
log_processor = dict(window_size=1)  # each logged loss is that iteration's own
""" + short_schedule(2)
NAN_AT_ITER_5 = dict(type='InjectNonFiniteLossHook', at_iter=5)


@pytest.mark.slow
def test_nan_loss_stops_naming_iteration_and_terms_keeping_last_checkpoint(demo_data, tmp_path):
    cfg = derived_config(tmp_path, 'stop', SHORT_RUN, extra_hooks=[NAN_AT_ITER_5])
    work_dir = str(tmp_path / 'run')
    proc = run('tools/train.py', cfg, '--work-dir', work_dir, check=False)
    assert proc.returncode != 0
    assert 'FloatingPointError: non-finite loss at iteration 5 (epoch 2): loss=nan' in proc.stderr
    assert checkpoint_problem(osp.join(work_dir, 'epoch_1.pth')) is None
    assert not osp.exists(osp.join(work_dir, 'epoch_2.pth'))
    state = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu', weights_only=True)['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.mark.slow
def test_nan_loss_skip_policy_skips_the_step_and_counts_it(demo_data, tmp_path):
    cfg = derived_config(tmp_path, 'skip', SHORT_RUN +
                         "custom_hooks = [h if h['type'] != 'mae_mm.NonFiniteLossHook' else "
                         "dict(h, on_nonfinite='skip') for h in custom_hooks]\n",
                         extra_hooks=[NAN_AT_ITER_5])
    work_dir = str(tmp_path / 'run')
    proc = run('tools/train.py', cfg, '--work-dir', work_dir)
    assert 'non-finite loss at iteration 5 (epoch 2): loss=nan; skipped that step' in proc.stdout + proc.stderr
    records = read_scalars(work_dir)
    assert [r['skipped_nonfinite_steps'] for r in records if 'skipped_nonfinite_steps' in r][-1] == 1
    losses = {r['step']: r['loss'] for r in records if 'loss' in r}
    assert math.isnan(losses[5]) and all(math.isfinite(v) for s, v in losses.items() if s != 5)
    state = torch.load(osp.join(work_dir, 'epoch_2.pth'), map_location='cpu', weights_only=True)['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def _skipping_wrapper(skip=True):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    wrapper = SkipNonFiniteOptimWrapper(torch.optim.AdamW(model.parameters(), lr=0.1))
    if skip:
        NonFiniteLossHook.enable_skipping(wrapper)
    return model, wrapper


def test_skip_mode_leaves_weights_and_optimizer_state_untouched():
    model, wrapper = _skipping_wrapper()
    assert wrapper.skip_nonfinite
    x = torch.randn(8, 4)
    wrapper.update_params(model(x).pow(2).mean())  # one real step: AdamW state exists
    assert not wrapper.last_step_skipped
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state_before = {k: v.clone() for k, v in wrapper.optimizer.state[model.weight].items()}
    wrapper.update_params(model(x).pow(2).mean() * float('nan'))
    assert wrapper.last_step_skipped
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(torch.equal(state_before[k], v) for k, v in wrapper.optimizer.state[model.weight].items())
    assert model.weight.grad is None or not model.weight.grad.any()
    wrapper.update_params(model(x).pow(2).mean())  # and the next finite step trains
    assert not wrapper.last_step_skipped
    assert not torch.equal(before['weight'], model.weight)


def test_without_skip_mode_a_nan_loss_reaches_the_weights():
    """The switch is off unless the hook turns it on: mmengine's plain update."""
    model, wrapper = _skipping_wrapper(skip=False)
    wrapper.update_params(model(torch.randn(8, 4)).pow(2).mean() * float('nan'))
    assert not wrapper.last_step_skipped and torch.isnan(model.weight).all()


@pytest.mark.parametrize('wrapper_type', [OptimWrapper, AmpOptimWrapper])
def test_skip_mode_refuses_a_wrapper_that_cannot_skip(wrapper_type, monkeypatch):
    model = torch.nn.Linear(4, 2)
    if wrapper_type is AmpOptimWrapper:  # mmengine's AMP wrapper asserts a GPU when built
        monkeypatch.setattr('mmengine.optim.optimizer.amp_optimizer_wrapper.is_cuda_available', lambda: True)
    wrapper = wrapper_type(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match=rf"on_nonfinite='skip'.* got mmengine\..*\.{wrapper_type.__name__}: set "
                                        r"optim_wrapper.type to 'mae_mm.build_amp_optim_wrapper'"):
        NonFiniteLossHook.enable_skipping(OptimWrapperDict(main=wrapper))


def test_bad_policy_is_refused():
    with pytest.raises(ValueError, match=r"on_nonfinite must be one of \('stop', 'skip', 'rollback'\), got 'ignore'"):
        NonFiniteLossHook(on_nonfinite='ignore')
    with pytest.raises(ValueError, match='lr_factor must be in'):
        NonFiniteLossHook(on_nonfinite='rollback', lr_factor=1.5)
    with pytest.raises(ValueError, match='max_rollbacks must be >= 0'):
        NonFiniteLossHook(on_nonfinite='rollback', max_rollbacks=-1)


@pytest.mark.slow
def test_a_nonfinite_loss_on_one_rank_skips_that_step_on_every_rank(demo_data, tmp_path):
    """2 processes on gloo, batch 16 each; rank 1's loss is NaN at iteration 5 only. Every rank skips
    that step (agreed before any backward), the replicas stay equal, the run trains on to its end,
    and each step makes one small all-reduce from Python (the agreement, which SaveOnSignalHook
    reads too), not two."""
    work_dir, probes = str(tmp_path / 'run'), str(tmp_path / 'probe')
    cfg = derived_config(tmp_path, 'skip2', SHORT_RUN.replace('dataset=dict(', 'batch_size=16, dataset=dict(') +
                         "custom_hooks = [h if h['type'] != 'mae_mm.NonFiniteLossHook' else "
                         "dict(h, on_nonfinite='skip') for h in custom_hooks]\n",
                         extra_hooks=[dict(type='InjectNonFiniteLossHook', at_iter=5, rank=1),
                                      dict(type='CountAllReducesHook', path=probes + '_reduces'),
                                      dict(type='SaveRankWeightsHook', path=probes + '_weights')])
    proc = run('tools/dist_train.sh', cfg, '2', '--work-dir', work_dir, threads=1, env={'PORT': str(free_port())})
    out = proc.stdout + proc.stderr
    assert "non-finite loss at iteration 5 (epoch 2) on another rank (rank 0's loss is finite)" in out, out[-3000:]
    records = read_scalars(work_dir)
    assert [r['skipped_nonfinite_steps'] for r in records if 'skipped_nonfinite_steps' in r][-1] == 1
    losses = {r['step']: r['loss'] for r in records if 'loss' in r}
    assert sorted(losses) == list(range(1, 7)) and all(math.isfinite(v) for v in losses.values()), losses
    ranks = [torch.load(f'{probes}_weights_{rank}.pth', weights_only=True) for rank in (0, 1)]
    for key, value in ranks[0].items():
        assert torch.equal(value, ranks[1][key]), key
        assert not value.is_floating_point() or torch.isfinite(value).all(), key
    for rank in (0, 1):
        with open(f'{probes}_reduces_{rank}.json') as f:
            counts = {int(k): v for k, v in json.load(f).items()}
        # the first iteration also checks for a signal caught during start-up; the last of each
        # epoch (3, 6) is followed by its checkpoint, whose write the ranks agree on
        assert counts == {1: 2, 2: 1, 3: 2, 4: 1, 5: 1, 6: 2}, (rank, counts)


@pytest.mark.slow
def test_a_run_that_stops_on_an_error_ends_with_its_dataloader_workers_alive(demo_data, tmp_path):
    """DataLoader workers ignore the save signals (Slurm signals them too); a run that ends on an
    uncaught error while its workers live (here a NaN stop in epoch 1, 2 persistent workers) still
    exits: multiprocessing's SIGTERM at exit would not end them, mae_mm's exit handler kills them."""
    cfg = derived_config(tmp_path, 'stop_with_workers', SHORT_RUN.replace(
        'num_workers=0, persistent_workers=False', 'num_workers=2, persistent_workers=True'),
        extra_hooks=[dict(type='InjectNonFiniteLossHook', at_iter=2)])
    proc = run('tools/train.py', cfg, '--work-dir', str(tmp_path / 'run'), check=False, timeout=120, threads=1)
    assert proc.returncode == 1 and 'non-finite loss at iteration 2 (epoch 1)' in proc.stderr, proc.stderr[-2000:]
