"""A suite run's manifest, ``WORK_DIR/manifest.json``, and the run's folder layout.

The manifest::

    {"version": 1, "created": "...", "launcher": "local" | "slurm", "partition": ...,
     "checkpoint": {"path", "size", "mtime_ns", "sha256", "kind", "converted"},
     "suite": {"path", "sha256", "cited"},
     "stages": {"<stage>": {"stage": {...},            # the suite's stage (mae_mm.suite.plan.suite)
                            "needs": ["checkpoint"],   # what it starts from (mae_mm.suite.plan.graph)
                            "points": [{"name", "overrides", "seed", "stage", "config", "status",
                                        "reason", "metrics", "job_id", "log", "pid", "host", ...}]}},
     "collect_job": "..."}                             # Slurm: the job that writes the tables

A study (:mod:`mae_mm.suite.plan.study`) has ``"study": {...}`` and ``"checkpoint": null``, a
``pretraining`` stage first whose points also hold ``checkpoint`` (the file their training ends
with), and points that name the pretraining point they start from, ``upstream`` (``random-init``
for the random-init row; absent or null in a suite run); a point skipped because that pretraining
ended without its checkpoint holds ``blocked_by``.

Written atomically (a temporary file renamed over it), so a kill never leaves half of it. A
manifest written before stages had ``needs`` is read with ``needs`` = ``["checkpoint"]``, which is
what every stage of those runs started from.

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
ENDED = ('done', 'failed', 'skipped')
CHECKPOINT = 'checkpoint'  # the node of the stage graph that is the run's input checkpoint
PRETRAINING = 'pretraining'  # a study's stage that pretrains every point of its grid (mae_mm.suite.plan.study)
LOCAL_LOG = 'transfer.log'  # a local point's tools' output, in its folder
OUTPUTS = ('results.json', 'results.md', 'results.png', 'curves.png')  # mae_mm.suite.report.outputs
CONVERTED = 'pretrained_converted.pth'  # an official or mmpretrain checkpoint, converted into the run


def manifest_path(work_dir: str) -> str:
    return osp.join(work_dir, MANIFEST)


def read_manifest(work_dir: str) -> Optional[Dict]:
    """The manifest in ``work_dir`` (``needs`` filled in where an older one lacks it), or None."""
    path = manifest_path(work_dir)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get('version') != VERSION:
        raise ValueError(f'{path}: manifest version {manifest.get("version")}, this tool writes {VERSION}')
    for record in manifest['stages'].values():
        record.setdefault('needs', [CHECKPOINT])
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
    """``(stage name, point)`` of every point, stage by stage."""
    for stage, record in manifest['stages'].items():
        for point in record['points']:
            yield stage, point


def all_ended(manifest: Dict) -> bool:
    return all(p['status'] in ENDED for _, p in iter_points(manifest))


def stage_dir(work_dir: str, name: str, train: bool) -> str:
    """``WORK_DIR/<stage>`` for a training stage; ``WORK_DIR/<stage>-eval`` for an evaluation-only
    one (``pretrain-eval``: not ``WORK_DIR/pretrain``, where the demo pretrains)."""
    return osp.join(work_dir, name if train else f'{name}-eval')


def point_dir(work_dir: str, manifest: Dict, name: str, point: Dict) -> str:
    """A point's folder: its stage's, or a sub-folder named after the point in a sweep or seeds."""
    folder = stage_dir(work_dir, name, manifest['stages'][name]['stage']['train'])
    return osp.join(folder, point['name']) if point['name'] else folder


def point_log(work_dir: str, manifest: Dict, name: str, point: Dict) -> str:
    """The log of a point's tools: ``transfer.log`` in its folder (local); its Slurm log, in its
    own folder for a plain job and in the stage's for an array task (``point['log']``)."""
    folder = point_dir(work_dir, manifest, name, point)
    if manifest['launcher'] == 'local':
        return osp.join(folder, LOCAL_LOG)
    return point.get('log') or osp.join(folder, f'slurm-{point["job_id"]}.out')


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


def process_gone(manifest: Dict, point: Dict) -> bool:
    """A local point recorded as running whose ``tools/transfer.py`` no longer runs (killed, or the
    machine restarted). A Slurm point's job is followed by :mod:`mae_mm.suite.execute.poll`."""
    return point['status'] == 'running' and manifest['launcher'] == 'local' and not pid_alive(point)


def interrupt_if_gone(manifest: Dict, point: Dict) -> bool:
    """Marks the point ``interrupted`` (the same command resumes it) when :func:`process_gone`;
    returns whether it did."""
    if not process_gone(manifest, point):
        return False
    point.update(status='interrupted', reason=f'the transfer.py (pid {point["pid"]}) that ran it is gone')
    return True
