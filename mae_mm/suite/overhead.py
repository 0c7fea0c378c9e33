"""The orchestration's own cost on a finished suite run or study, as data
(``tools/benchmark_transfer.py`` prints it): ``--status``, a re-run of the same command with
nothing left to run, and (a suite run) the checkpoint's sha256 uncached against cached."""
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

from .plan.checkpoint import sha256_of
from .plan.manifest import read_manifest


def _median_seconds(cmd: List[str], cwd: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rerun_command(root: str, work_dir: str, manifest: Dict) -> List[str]:
    """The ``tools/transfer.py`` command line that continues the run in ``work_dir``: the suite run
    of its checkpoint, or the study of its pretraining config and grid."""
    tool = [sys.executable, osp.join(root, 'tools', 'transfer.py')]
    study = manifest.get('study')
    if study:
        source = ['--pretrain', study['config']]
        if study['sweeps']:
            source += ['--pretrain-sweep'] + [f'{k}={",".join(map(str, v))}' for k, v in study['sweeps'].items()]
        source += (['--seeds', str(study['seeds'])] if study['seeds'] else []) + \
            (['--random-init'] if study['random_init'] else [])
    else:
        source = [manifest['checkpoint']['path']]
    return tool + source + ['--suite', manifest['suite']['path'], '--work-dir', work_dir, '--launcher',
                            manifest['launcher']] + (['--partition', manifest['partition']] if manifest.get('partition')
                                                     else [])


def measure_overhead(root: str, work_dir: str, repeat: int = 5) -> Dict[str, float]:
    """Seconds of ``status`` and ``rerun`` (median of ``repeat`` processes started from this one),
    and for a suite run of ``sha256_uncached`` and ``sha256_cached`` (one call each, a fresh cache
    file) and the checkpoint's size, ``checkpoint_mib``."""
    manifest = read_manifest(work_dir)
    if manifest is None:
        raise FileNotFoundError(f'{work_dir} holds no manifest.json: not a suite run')
    tool = [sys.executable, osp.join(root, 'tools', 'transfer.py')]
    out = dict(status=_median_seconds(tool + ['--status', work_dir], root, repeat),
               rerun=_median_seconds(rerun_command(root, work_dir, manifest), root, repeat))
    if manifest.get('study'):
        return out
    ckpt = manifest['checkpoint']['path']
    with tempfile.TemporaryDirectory() as tmp:
        cache = osp.join(tmp, 'hashes.json')
        for key in ('sha256_uncached', 'sha256_cached'):
            start = time.perf_counter()
            sha256_of(ckpt, cache)
            out[key] = time.perf_counter() - start
    out['checkpoint_mib'] = os.path.getsize(ckpt) / 2 ** 20
    return out
