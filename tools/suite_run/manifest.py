"""A suite run's manifest, ``WORK_DIR/manifest.json``: the checkpoint, the suite, and per stage its
config and its points with overrides, seed, job id (Slurm) or pid (local), status, reason and
metrics. Written atomically (a temporary file renamed over it), so a kill never leaves half of it.

Statuses: ``pending`` (not started), ``running``, ``interrupted`` (killed or preempted: the next
run resumes it from its newest whole checkpoint), ``done``, ``failed`` (with ``reason``; retried
only with ``--retry-failed``), ``skipped`` (with ``reason``).
"""
import json
import os
import os.path as osp
import socket
from typing import Dict, Iterator, Optional, Tuple

MANIFEST = 'manifest.json'
VERSION = 1
STATUSES = ('pending', 'running', 'interrupted', 'done', 'failed', 'skipped')


def manifest_path(work_dir: str) -> str:
    return osp.join(work_dir, MANIFEST)


def read_manifest(work_dir: str) -> Optional[Dict]:
    path = manifest_path(work_dir)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get('version') != VERSION:
        raise ValueError(f'{path}: manifest version {manifest.get("version")}, this tool writes {VERSION}')
    return manifest


def write_manifest(work_dir: str, manifest: Dict) -> None:
    os.makedirs(work_dir, exist_ok=True)
    path = manifest_path(work_dir)
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(manifest, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def iter_points(manifest: Dict) -> Iterator[Tuple[str, Dict]]:
    for stage, record in manifest['stages'].items():
        for point in record['points']:
            yield stage, point


def point_dir(work_dir: str, stage: str, point: Dict) -> str:
    return osp.join(work_dir, stage, point['name']) if point['name'] else osp.join(work_dir, stage)


def pid_alive(point: Dict) -> bool:
    """Whether the local process recorded as running ``point`` still runs (on this host)."""
    pid, host = point.get('pid'), point.get('host')
    if not pid or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
