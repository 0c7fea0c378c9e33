"""Local file writes that never leave a half-written file: write aside, fsync, rename.

mmengine saves checkpoints (and dumps configs and metrics) through its ``LocalBackend``, which
opens the destination and writes into it; a run killed during that write leaves a truncated
checkpoint under the final name. :class:`AtomicLocalBackend` writes to a temporary file in the
same directory, flushes it to disk and renames it over the destination (``os.replace`` is
atomic on POSIX and Windows), so a reader sees either the old file or the whole new one. A kill
leaves at most a ``<name>.tmp-<pid>`` file behind, which nothing reads.

Importing this module registers the class with mmengine under its own backend name,
:data:`ATOMIC_BACKEND` (``'atomic_local'``); mmengine's ``local`` backend stays as it is. A
config selects it where checkpoints are written, through mmengine's ``CheckpointHook``:
``default_hooks.checkpoint.backend_args=dict(backend='atomic_local')`` (every config base of
this project does). The hook then writes each checkpoint with this backend's ``put`` and
removes old checkpoints with it; the ``last_checkpoint`` pointer it writes with a plain
``open`` (see :func:`mae_mm.engine.resume.find_resumable_checkpoint`, which checks it).
"""
import os
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def write_atomically(data: bytes, filepath: Union[str, Path]) -> None:
    """Writes ``data`` to ``filepath`` so that ``filepath`` is never seen partly written."""
    filepath = str(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    tmp_path = f'{filepath}.tmp-{os.getpid()}'
    try:
        with open(tmp_path, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
    # the rename itself survives a power cut only once the directory entry is on disk
    if hasattr(os, 'O_DIRECTORY'):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose ``put`` and ``put_text`` replace files atomically."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomically(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), filepath)


# The name configs select (``backend_args=dict(backend=ATOMIC_BACKEND)``).
ATOMIC_BACKEND = 'atomic_local'

register_backend(ATOMIC_BACKEND, AtomicLocalBackend)
