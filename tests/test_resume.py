"""A run killed while writing a checkpoint resumes bit-exactly from the previous one."""
import glob
import os.path as osp

import pytest
import torch

from conftest import read_scalars, scalars_by_step
from mae_mm.engine.resume import checkpoint_problem, find_resumable_checkpoint
from reliability_utils import derived_config, run, short_schedule

# 96 images, batch 32: 3 iterations per epoch; validation every epoch (it must not disturb the
# training random streams); two non-persistent DataLoader workers doing the augmentation.
SHORT_RUN = """
train_cfg = dict(max_epochs=4, val_interval=1)
train_dataloader = dict(num_workers=2, persistent_workers=False, dataset=dict(indices=96))
val_dataloader = dict(dataset=dict(indices=50))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1))
""" + short_schedule(4)



@pytest.mark.slow
def test_killed_during_save_resumes_bit_exact(demo_data, tmp_path):
    full_cfg = derived_config(tmp_path, 'full', SHORT_RUN)
    kill_cfg = derived_config(tmp_path, 'kill', SHORT_RUN,
                              extra_hooks=[dict(type='KillDuringCheckpointWriteHook', at_epoch=3)])
    uninterrupted, killed = str(tmp_path / 'uninterrupted'), str(tmp_path / 'killed')
    run('tools/train.py', full_cfg, '--work-dir', uninterrupted)

    proc = run('tools/train.py', kill_cfg, '--work-dir', killed, check=False)
    assert proc.returncode == 137, proc.stderr[-3000:]
    # the save of epoch 3 was cut: nothing under its name, the previous checkpoint whole
    assert not osp.exists(osp.join(killed, 'epoch_3.pth'))
    assert glob.glob(osp.join(killed, 'epoch_3.pth.tmp-*')), 'the kill should have hit the write'
    assert checkpoint_problem(osp.join(killed, 'epoch_2.pth')) is None
    assert find_resumable_checkpoint(killed) == osp.join(killed, 'epoch_2.pth')
    saved = torch.load(osp.join(killed, 'epoch_2.pth'), map_location='cpu', weights_only=True)
    assert saved['meta']['epoch'] == 2 and len(saved['random_states']) == 1

    run('tools/train.py', full_cfg, '--work-dir', killed, '--resume')

    expected, resumed = read_scalars(uninterrupted), read_scalars(killed)
    for key in ('loss', 'lr'):
        want, got = scalars_by_step(expected, key), scalars_by_step(resumed, key)
        assert sorted(got) == list(range(7, 13)), f'{key}: resumed steps {sorted(got)}'
        assert {s: want[s] for s in got} == got, f'{key} after resuming differs from the uninterrupted run'
    # validation after epochs 3 and 4 (same weights, same fixed evaluation noise)
    assert scalars_by_step(expected, 'recon/mse')[3] == scalars_by_step(resumed, 'recon/mse')[3]
    assert scalars_by_step(expected, 'recon/mse')[4] == scalars_by_step(resumed, 'recon/mse')[4]


def test_fp16_loss_scale_resumes_with_the_optimizer_state():
    """The AMP wrapper (GPU runs; here on CPU) saves its loss scale, and a resumed wrapper reads it."""
    from mae_mm.engine.optim_wrapper import AutocastOptimWrapper

    def wrapper():
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 2)
        return model, AutocastOptimWrapper(dtype='float16', optimizer=torch.optim.AdamW(model.parameters()),
                                           loss_scale=dict(init_scale=1024.0, growth_interval=1))

    model, first = wrapper()
    for _ in range(3):  # every finite step doubles the scale (growth_interval=1)
        with first.optim_context(model):
            loss = model(torch.randn(8, 4)).pow(2).mean()
        first.update_params(loss)
    state = first.state_dict()
    assert state['loss_scaler']['scale'] == 1024.0 * 2 ** 3
    _, resumed = wrapper()
    resumed.load_state_dict(state)
    assert resumed.loss_scaler.get_scale() == 1024.0 * 2 ** 3
