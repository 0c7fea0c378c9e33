"""The work dir made ready for a plan's points: another checkpoint's run discarded (``--replace``),
an official or mmpretrain checkpoint converted into it."""
import os
import os.path as osp
import shutil
import subprocess
import sys
from typing import Dict, List, Optional

from ..console import say
from ..errors import RunRefused
from ..plan.manifest import CONVERTED, MANIFEST, OUTPUTS


def discard(work_dir: str, dirs: List[str], ckpt: Optional[Dict]) -> None:
    """Removes ``dirs`` (never one holding the checkpoint ``ckpt``; None for a study) and the run's
    manifest and outputs, and says so."""
    if not dirs:
        return
    this = f'this checkpoint ({ckpt["sha256"][:12]})' if ckpt else 'this study'
    say(f'--replace: discarding the previous run in {work_dir} ({", ".join(dirs)}); {this} starts every stage afresh')
    for d in dirs:
        if osp.isdir(d) and not (ckpt and osp.abspath(ckpt['path']).startswith(osp.abspath(d) + os.sep)):
            shutil.rmtree(d)
    for name in OUTPUTS + (MANIFEST, CONVERTED):
        if osp.exists(osp.join(work_dir, name)):
            os.remove(osp.join(work_dir, name))


def convert_if_needed(root: str, work_dir: str, ckpt: Dict) -> None:
    """Converts an official or mmpretrain checkpoint into the run dir with tools/convert_checkpoint.py
    (once) and records the copy as ``ckpt['converted']``."""
    if ckpt['kind'] == 'mae_mm':
        ckpt['converted'] = None
        return
    out = osp.join(work_dir, CONVERTED)
    if not osp.isfile(out):
        os.makedirs(work_dir, exist_ok=True)
        say(f'converting the {ckpt["kind"]} checkpoint into {out} (tools/convert_checkpoint.py --from {ckpt["kind"]})')
        proc = subprocess.run([sys.executable, osp.join(root, 'tools', 'convert_checkpoint.py'), ckpt['path'], out,
                               '--from', ckpt['kind']], capture_output=True, text=True, cwd=root)
        if proc.returncode != 0:
            raise RunRefused(f'converting {ckpt["path"]} failed: {proc.stderr.strip()[-500:]}')
    ckpt['converted'] = out
