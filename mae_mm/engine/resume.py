"""Finding the checkpoint a killed run resumes from, skipping any that is not whole."""
import glob
import logging
import os.path as osp
import zipfile
from typing import Optional

from mmengine.logging import print_log


def run_checkpoint_hook(runner):
    """The run's ``CheckpointHook`` (its ``out_dir`` and ``backend_args`` say where and how
    checkpoints are written), or None."""
    from mmengine.hooks import CheckpointHook

    return next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be a checkpoint to resume from, or None when it looks whole.

    ``torch.save`` writes a zip archive whose directory sits at the end of the file, so a
    truncated file has no readable directory; this reads the directory, not the tensors.
    """
    if not osp.isfile(path):
        return 'no such file'
    if osp.getsize(path) == 0:
        return 'empty file'
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(name.endswith('data.pkl') for name in archive.namelist()):
                return 'not a torch.save archive (no data.pkl)'
    except (zipfile.BadZipFile, OSError) as err:
        return f'unreadable or truncated ({err})'
    return None


def checkpoint_meta(path: str) -> Optional[dict]:
    """A checkpoint's ``meta`` dict, read without loading its tensors (memory-mapped); None when
    it has none."""
    import torch

    ckpt = torch.load(path, map_location='cpu', mmap=True, weights_only=True)
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    return meta if isinstance(meta, dict) else None


def checkpoint_iteration(path: str) -> int:
    """The training iteration a checkpoint was saved at (``meta.iter``), read without loading
    its tensors; a ValueError when it has none."""
    meta = checkpoint_meta(path)
    if meta is None or 'iter' not in meta:
        raise ValueError('no meta.iter: not a training checkpoint')
    return int(meta['iter'])


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from: of the whole ``*.pth`` files in ``work_dir``,
    the one saved at the latest training iteration (``meta.iter``, not the file name: a
    mid-epoch ``iter_50.pth`` written on a signal is older than ``epoch_4.pth`` of 4 x 20
    iterations); among equal iterations the one ``work_dir/last_checkpoint`` names, then the
    newest file. None when there is none.

    Each checkpoint passed over is logged with the reason.
    """
    pointer, named = osp.join(work_dir, 'last_checkpoint'), None
    if osp.isfile(pointer):
        with open(pointer) as f:
            text = f.read().strip()
        if text:
            named = osp.abspath(text if osp.isabs(text) else osp.join(work_dir, osp.basename(text)))
    ranked = []
    for path in sorted(glob.glob(osp.join(work_dir, '*.pth'))):
        problem = checkpoint_problem(path)
        if problem is None:
            try:
                ranked.append((checkpoint_iteration(path), osp.abspath(path) == named, osp.getmtime(path), path))
                continue
            except Exception as err:  # noqa: BLE001  any unreadable file is passed over, with the reason
                problem = f'unreadable ({err})'
        print_log(f'not resuming from {path}: {problem}', logger='current', level=logging.WARNING)
    if named is not None and not osp.isfile(named):
        print_log(f'{pointer} names {named}, which is missing', logger='current', level=logging.WARNING)
    return max(ranked)[3] if ranked else None
