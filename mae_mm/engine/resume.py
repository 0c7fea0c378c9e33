"""Finding the checkpoint a killed run resumes from, skipping any that is not whole."""
import logging
import glob
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

from mmengine.logging import print_log


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


def _numbered_checkpoints(work_dir: str) -> List[Tuple[int, str]]:
    """``epoch_N.pth`` / ``iter_N.pth`` in ``work_dir`` as (N, path), newest first."""
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = re.fullmatch(r'(?:epoch|iter)_(\d+)\.pth', osp.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from: the one named in ``work_dir/last_checkpoint``
    when it is whole, else the newest whole ``epoch_N.pth``/``iter_N.pth``; None if there is none.

    Each checkpoint passed over is logged with the reason.
    """
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            candidates.append(named if osp.isabs(named) else osp.join(work_dir, osp.basename(named)))
    candidates += [path for _, path in _numbered_checkpoints(work_dir)]
    for path in dict.fromkeys(candidates):  # ordered, without repeats
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        print_log(f'not resuming from {path}: {problem}', logger='current', level=logging.WARNING)
    return None
