"""Never without a checkpoint (issue 30): the old checkpoint goes only once the new one is whole.

mmengine's CheckpointHook removes the checkpoint falling out of ``max_keep_ckpts`` before it
writes the new one; the configs' ``mae_mm.WriteFirstCheckpointHook``
(mae_mm/engine/checkpoint_hook.py) writes first. The runs here are the demo pretraining
shortened to 96 images, 3 epochs of 3 iterations at batch 32, one thread, a checkpoint every
epoch and ``max_keep_ckpts=1`` (the demo and transfer configs' setting).

The full disk is a tmpfs mounted by the test (root, as on CI), sized so that one checkpoint fits
and a second does not; a fault hook (FillDiskBeforeSaveHook, tests/helpers/mae_mm_faults.py)
also fills what is left just before the second save, as another job on a shared disk would,
so mmengine's order (remove, then write) meets the full disk too. Where mount fails (no root),
the test falls back to RLIMIT_FSIZE set in the training process at that save: EFBIG, 'File too
large', instead of ENOSPC.
"""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import LocalBackend
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

from mae_mm.engine.checkpoint_hook import WriteFirstCheckpointHook
from mae_mm.engine.resume import checkpoint_problem, find_resumable_checkpoint
from mae_mm.exit_codes import CHECKPOINT_NOT_WRITTEN
from reliability_utils import ROOT, derived_config, run, short_schedule

SHORT = """
train_cfg = dict(max_epochs=3, val_interval=10)
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(indices=96))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=1))
log_processor = dict(window_size=1)
""" + short_schedule(3)

# the demo's checkpoint with its optimizer state is about 36 MiB: one fits in 56 MiB, two do not
DISK_KIB = 56 * 1024


def checkpoints(folder):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(folder, '*.pth')))


def partial_files(folder):
    return sorted(glob.glob(osp.join(folder, '*.tmp-*')))


def pointer(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def assert_whole(path, epoch):
    """``path`` is whole, loads with weights_only, and was saved at the end of ``epoch``."""
    assert checkpoint_problem(path) is None, checkpoint_problem(path)
    meta = torch.load(path, map_location='cpu', weights_only=True)['meta']
    assert (meta['epoch'], meta['iter']) == (epoch, 3 * epoch), meta


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of DISK_KIB mounted under tmp_path (unmounted afterwards), or None where mount fails."""
    mount = tmp_path / 'disk'
    mount.mkdir()
    tried = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={DISK_KIB}k', 'tmpfs', str(mount)],
                           capture_output=True, text=True)
    if tried.returncode != 0:
        yield None
        return
    try:
        yield str(mount)
    finally:
        if subprocess.run(['umount', str(mount)], capture_output=True).returncode != 0:
            subprocess.run(['umount', '-l', str(mount)], check=True)


@pytest.mark.slow
def test_full_disk_keeps_the_previous_checkpoint_and_resume_completes(demo_data, tmp_path, small_disk):
    work_dir = small_disk or str(tmp_path / 'run')
    ballast = osp.join(small_disk, 'ballast') if small_disk else None  # None: RLIMIT_FSIZE (EFBIG)
    cause = 'No space left on device (ENOSPC)' if small_disk else 'File too large (EFBIG)'
    clean = derived_config(tmp_path, 'clean', SHORT)
    full = derived_config(tmp_path, 'full', SHORT,
                          extra_hooks=[dict(type='FillDiskBeforeSaveHook', at_epoch=2, ballast=ballast,
                                                 max_bytes=DISK_KIB * 1024)])

    proc = run('tools/train.py', full, '--work-dir', work_dir, threads=1, check=False)

    assert proc.returncode == CHECKPOINT_NOT_WRITTEN, f'{proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    target, previous = osp.join(work_dir, 'epoch_2.pth'), osp.join(work_dir, 'epoch_1.pth')
    lines = [line for line in proc.stderr.splitlines() if target in line]
    assert len(lines) == 1, proc.stderr[-3000:]
    assert cause in lines[0] and previous in lines[0] and '--resume' in lines[0], lines[0]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    assert checkpoints(work_dir) == ['epoch_1.pth'] and partial_files(work_dir) == []
    assert_whole(previous, epoch=1)
    assert pointer(work_dir) == previous
    if small_disk:
        assert 2 * osp.getsize(previous) > DISK_KIB * 1024 > osp.getsize(previous), 'resize DISK_KIB'
        subprocess.run(['mount', '-o', f'remount,size={4 * DISK_KIB}k', small_disk], check=True)

    run('tools/train.py', clean, '--work-dir', work_dir, '--resume', threads=1)

    assert checkpoints(work_dir) == ['epoch_3.pth'] and partial_files(work_dir) == []
    assert_whole(osp.join(work_dir, 'epoch_3.pth'), epoch=3)
    assert pointer(work_dir) == osp.join(work_dir, 'epoch_3.pth')


@pytest.mark.slow
def test_killed_during_save_keeps_the_previous_checkpoint_and_resume_cleans_up(demo_data, tmp_path):
    work_dir = str(tmp_path / 'run')
    clean = derived_config(tmp_path, 'clean', SHORT)
    kill = derived_config(tmp_path, 'kill', SHORT, extra_hooks=[dict(type='KillDuringCheckpointWriteHook', at_epoch=2)])

    proc = run('tools/train.py', kill, '--work-dir', work_dir, threads=1, check=False)

    assert proc.returncode == 137, proc.stderr[-3000:]
    [partial] = partial_files(work_dir)  # the kill hit the write of epoch 2
    assert osp.basename(partial).startswith('epoch_2.pth.tmp-')
    assert checkpoints(work_dir) == ['epoch_1.pth']
    assert_whole(osp.join(work_dir, 'epoch_1.pth'), epoch=1)
    assert find_resumable_checkpoint(work_dir) == osp.join(work_dir, 'epoch_1.pth')

    resumed = run('tools/train.py', clean, '--work-dir', work_dir, '--resume', threads=1)

    assert f'removed {partial}' in resumed.stdout + resumed.stderr
    assert partial_files(work_dir) == [] and checkpoints(work_dir) == ['epoch_3.pth']
    assert_whole(osp.join(work_dir, 'epoch_3.pth'), epoch=3)


# ---- in this process: the keep window, the order of writes and removals, stale partial files --------

class _Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class _Points(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.full((2,), float(i)))


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True)
    return int(proc.stdout)


@pytest.mark.parametrize('keep,out_dir', [(1, False), (2, False), (2, True)])
def test_keep_window_holds_and_the_old_file_goes_after_the_new_one_is_written(keep, out_dir, tmp_path, monkeypatch):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    # the checkpoint hook exactly as the shared runtime base configures it, with this window
    hook = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'default_runtime.py')).default_hooks.checkpoint
    hook.update(max_keep_ckpts=keep, out_dir=str(tmp_path / 'out') if out_dir else None)
    work_dir = str(tmp_path / 'work')
    folder = osp.join(str(tmp_path / 'out'), 'work') if out_dir else work_dir  # mmengine: out_dir/<work dir name>
    os.makedirs(folder, exist_ok=True)
    stale, live = osp.join(folder, f'epoch_9.pth.tmp-{dead_pid()}'), osp.join(folder, f'epoch_8.pth.tmp-{os.getppid()}')
    other = osp.join(folder, f'notes.txt.tmp-{dead_pid()}')
    for path in (stale, live, other):
        open(path, 'w').close()

    present_at_removal = []
    original_remove = LocalBackend.remove

    def recording_remove(self, filepath):
        present_at_removal.append((osp.basename(filepath), checkpoints(folder)))
        original_remove(self, filepath)

    monkeypatch.setattr(LocalBackend, 'remove', recording_remove)
    try:
        runner = Runner(model=_Toy(), work_dir=work_dir, experiment_name=f'keep{keep}_{out_dir}',
                        train_dataloader=dict(batch_size=2, dataset=_Points(), num_workers=0,
                                              sampler=dict(type='DefaultSampler', shuffle=False),
                                              collate_fn=dict(type='default_collate')),
                        train_cfg=dict(by_epoch=True, max_epochs=4),
                        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
                        default_hooks=dict(checkpoint=hook), default_scope='mmengine')
        assert any(isinstance(h, WriteFirstCheckpointHook) for h in runner.hooks), 'the base config switched back?'
        runner.train()
    finally:
        DefaultScope._instance_dict.clear()

    newest = [f'epoch_{e}.pth' for e in range(5 - keep, 5)]
    assert checkpoints(folder) == newest
    assert pointer(work_dir) == osp.join(folder, 'epoch_4.pth')
    saved = torch.load(osp.join(folder, 'epoch_4.pth'), map_location='cpu', weights_only=True)
    assert saved['message_hub']['runtime_info']['keep_ckpt_ids'] == list(range(5 - keep, 5))
    # every old checkpoint was removed while the next one (and the rest of the window) was on disk
    removed = [(name, present) for name, present in present_at_removal if name.startswith('epoch_')]
    assert [name for name, _ in removed] == [f'epoch_{e}.pth' for e in range(1, 5 - keep)]
    for name, present in removed:
        step = int(name[len('epoch_'):-len('.pth')])
        assert present == [f'epoch_{e}.pth' for e in range(step, step + keep + 1)], (name, present)
    # partial files of dead writers of checkpoints are gone; a live writer's and other files stay
    assert not osp.exists(stale) and osp.exists(live) and osp.exists(other)
