"""Never without a checkpoint: write the new one first, remove the old one after.

mmengine 0.10.7's ``CheckpointHook._save_checkpoint_with_step`` removes the checkpoint that falls
out of the ``max_keep_ckpts`` window *before* it writes the new one. With ``max_keep_ckpts=1``
a save that meets a full disk or a quota, or a kill during that save, leaves no checkpoint at
all; the atomic writes of :mod:`mae_mm.engine.atomic_backend` cannot bring back a file that is
already gone. :class:`WriteFirstCheckpointHook` keeps mmengine's bookkeeping (the
``keep_ckpt_ids`` window and the message hub's ``keep_ckpt_ids`` / ``last_ckpt``, the file
names, ``out_dir``, the best-checkpoint calls) and changes the order:

1. write the new checkpoint (atomically, where ``backend_args`` selects ``atomic_local``);
2. point ``work_dir/last_checkpoint`` at it (atomically);
3. only then remove the checkpoint(s) that fell out of the window.

A save that meets ENOSPC, EDQUOT or EFBIG raises :class:`CheckpointWriteError` (the previous
checkpoint is whole, the partial file removed); ``tools/train.py`` prints it as one line and exits
with :data:`mae_mm.exit_codes.CHECKPOINT_NOT_WRITTEN`. A process killed during a save (SIGKILL)
leaves a ``<name>.tmp-<pid>`` file; the next run's ``before_train`` removes those whose writer
is no longer alive.
"""
import errno
import logging
import os
import os.path as osp
import re
from collections import deque
from typing import List, Optional

import torch
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from mae_mm.exit_codes import CHECKPOINT_NOT_WRITTEN
from mae_mm.registry import HOOKS
from .atomic_backend import write_atomically
from .resume import checkpoint_problem, find_resumable_checkpoint

# errno -> its name: the causes that mean "no room for this file" (a full disk, a quota, a
# file-size limit), which freeing space and --resume cure; any other OSError propagates as it is
NO_ROOM_ERRNOS = {getattr(errno, name): name for name in ('ENOSPC', 'EDQUOT', 'EFBIG') if hasattr(errno, name)}

# message hub key: the steps whose files fell out of the keep window at the last save; a run
# killed between writing a checkpoint and removing them removes them when it resumes
PENDING_REMOVAL_KEY = 'ckpt_ids_to_remove'

# ``<name>.tmp-<pid>``: the temporary file of write_atomically (atomic_backend.py)
_TMP_FILE = re.compile(r'^(?P<name>.+)\.tmp-(?P<pid>\d+)$')


class CheckpointWriteError(Exception):
    """A checkpoint could not be written for want of room (full disk, quota, file-size limit).

    Attributes:
        path (str): The checkpoint that was not written.
        cause (OSError): The error the write met.
        previous (str or None): The newest whole checkpoint still on disk, or None.
        exit_code (int): :data:`mae_mm.exit_codes.CHECKPOINT_NOT_WRITTEN` (74).
    """

    exit_code = CHECKPOINT_NOT_WRITTEN

    def __init__(self, path: str, cause: Optional[OSError], previous: Optional[str]):
        self.path, self.cause, self.previous = path, cause, previous
        if cause is None:  # another rank of a distributed run: rank 0 writes, and says why it could not
            super().__init__(f'checkpoint {path} not written: rank 0 could not write it (its message says why); '
                             'free space and run again with --resume')
            return
        reason = f'{cause.strerror or cause} ({NO_ROOM_ERRNOS.get(cause.errno, cause.errno)})'
        kept = (f'the previous whole checkpoint {previous} is kept' if previous
                else 'no earlier checkpoint of this run is on disk')
        advice = {'EDQUOT': 'free space (or raise the quota)', 'EFBIG': 'free space (or raise the file-size limit, '
                  'ulimit -f)'}.get(NO_ROOM_ERRNOS.get(cause.errno), 'free space')
        message = (f'checkpoint {path} not written: {reason}; the partial file was removed and {kept}; '
                   f'{advice} and run again with --resume')
        super().__init__(' '.join(message.split('\n')))  # one line, whatever the path holds


def newest_whole_checkpoint(work_dir: str, out_dir: Optional[str] = None) -> Optional[str]:
    """The checkpoint ``work_dir/last_checkpoint`` names when it is whole; else the newest whole
    ``*.pth`` in ``out_dir`` (a local folder; default ``work_dir``); else None."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and checkpoint_problem(named) is None:
            return named
    folder = out_dir or work_dir
    return find_resumable_checkpoint(folder) if osp.isdir(folder) else None


def save_checkpoint_or_explain(runner, out_dir: str, filename: str, **save_kwargs) -> str:
    """``runner.save_checkpoint(out_dir, filename, **save_kwargs)``; returns the path written.

    An OSError with errno ENOSPC, EDQUOT or EFBIG becomes a :class:`CheckpointWriteError` naming
    the path, the cause and the previous whole checkpoint (read before the write, from
    ``work_dir/last_checkpoint`` or ``out_dir``). The atomic backend has already removed its
    temporary file; mmengine's plain ``local`` backend leaves a truncated file under the final
    name, which this removes (it never was a whole checkpoint). Any other error propagates as is.

    Under DDP every rank calls this and only rank 0 writes: the ranks then agree (one small
    all-reduce per checkpoint) so that every rank stops with the error, and none waits for rank 0
    in a later collective until the backend's timeout.
    """
    from mae_mm.parallel import full_state_for_saving

    path = osp.join(out_dir, filename)
    failure = None
    try:
        with full_state_for_saving(runner):  # a sharded model's state, gathered to rank 0 (mae_mm.parallel)
            runner.save_checkpoint(out_dir, filename, **save_kwargs)
    except OSError as err:
        if err.errno not in NO_ROOM_ERRNOS:
            raise
        if osp.isfile(path) and checkpoint_problem(path) is not None:
            os.remove(path)
        previous = newest_whole_checkpoint(runner.work_dir, out_dir) if is_main_process() else None
        failure = CheckpointWriteError(path, err, previous)
        failure.__cause__ = err
    if get_world_size() > 1:
        flag = torch.tensor([0.0 if failure is None else 1.0])
        all_reduce(flag, op='max')
        if failure is None and flag.item():
            failure = CheckpointWriteError(path, None, None)
    if failure is not None:
        raise failure
    return path


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (True when it cannot be told)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's live process
        return True
    return True


def stale_temporary_files(folder: str, suffixes=('.pth',)) -> List[str]:
    """The ``<name>.tmp-<pid>`` files in ``folder`` left by a writer that is no longer alive, of
    checkpoints (``name`` ending with one of ``suffixes``) and of ``last_checkpoint``.

    The writer's pid is checked on this machine only: two runs writing one work dir from two
    machines at once are not supported anyway.
    """
    found = []
    for entry in sorted(os.listdir(folder)) if osp.isdir(folder) else ():
        match = _TMP_FILE.match(entry)
        if match is None or not osp.isfile(osp.join(folder, entry)):
            continue
        name, pid = match.group('name'), int(match.group('pid'))
        if (name == 'last_checkpoint' or name.endswith(tuple(suffixes))) and pid != os.getpid() \
                and not _pid_alive(pid):
            found.append(osp.join(folder, entry))
    return found


@HOOKS.register_module()
class WriteFirstCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments, files and message hub records) that writes
    each checkpoint before it removes the one falling out of ``max_keep_ckpts``, writes
    ``work_dir/last_checkpoint`` atomically, explains a full disk with
    :class:`CheckpointWriteError`, and removes partial files of killed runs when a run starts.

    ``isinstance(hook, CheckpointHook)`` holds, so code that looks the run's checkpoint hook up
    that way (:func:`mae_mm.engine.resume.run_checkpoint_hook`) finds it.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)  # out_dir resolved; mmengine trims a resumed window
        if not is_main_process():
            return
        self._remove_stale_temporary_files(runner)
        if self.max_keep_ckpts > 0 and PENDING_REMOVAL_KEY in runner.message_hub.runtime_info:
            pending = [s for s in runner.message_hub.get_info(PENDING_REMOVAL_KEY) if s not in self.keep_ckpt_ids]
            self._remove_steps(runner, pending, keep=None)

    def _remove_stale_temporary_files(self, runner) -> None:
        suffixes = tuple({'.pth', osp.splitext(self.filename_tmpl)[1] or '.pth'})
        folders = [runner.work_dir] + ([self.out_dir] if self.out_dir != runner.work_dir else [])
        for folder in folders:
            for path in stale_temporary_files(str(folder), suffixes):
                os.remove(path)
                runner.logger.warning(f'removed {path}: the partial file of a process that ended while '
                                      f'writing it (pid {_TMP_FILE.match(osp.basename(path)).group("pid")})')

    def _remove_steps(self, runner, steps, keep: Optional[str]) -> None:
        """Removes the checkpoints of ``steps`` in ``out_dir`` (files, or folders of deepspeed),
        never the file ``keep``."""
        for step in steps:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(step))
            if path == keep:
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        hub = runner.message_hub
        saved_ids = list(self.keep_ckpt_ids) if self.max_keep_ckpts > 0 else None
        saved_hub = {key: hub.runtime_info[key] for key in ('keep_ckpt_ids', 'last_ckpt', PENDING_REMOVAL_KEY)
                     if key in hub.runtime_info}
        saved_last = self.last_ckpt
        dropped = []
        # the same window as mmengine's, recorded before the save so that the checkpoint holds it;
        # _save_checkpoint and _save_best_checkpoint may both save one step
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                dropped.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
            hub.update_info(PENDING_REMOVAL_KEY, dropped)

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        hub.update_info('last_ckpt', self.last_ckpt)
        try:
            save_checkpoint_or_explain(
                runner, self.out_dir, ckpt_filename, file_client_args=self.file_client_args,
                save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
                meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        except BaseException:  # nothing new on disk: the records say what is there
            if saved_ids is not None:
                self.keep_ckpt_ids = deque(saved_ids, self.max_keep_ckpts)
            for key in ('keep_ckpt_ids', 'last_ckpt', PENDING_REMOVAL_KEY):
                if key in saved_hub:
                    hub.update_info(key, saved_hub[key])
                else:
                    hub.runtime_info.pop(key, None)
            self.last_ckpt = saved_last
            raise

        # model-parallel-like training pulls sharded states from all ranks, but only rank 0 writes
        if not is_main_process():
            return
        write_atomically(str(self.last_ckpt).encode(), osp.join(runner.work_dir, 'last_checkpoint'))
        self._remove_steps(runner, dropped, keep=self.last_ckpt)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's; a best checkpoint that meets a full disk raises :class:`CheckpointWriteError`.

        mmengine removes the previous *best* checkpoint before writing the new one; the regular
        checkpoints (``last_checkpoint``) are not touched by that.
        """
        try:
            super()._save_best_checkpoint(runner, metrics)
        except OSError as err:
            if err.errno not in NO_ROOM_ERRNOS:
                raise
            path = getattr(self, 'best_ckpt_path', None) or str(self.out_dir)
            if osp.isfile(path) and checkpoint_problem(path) is not None:
                os.remove(path)
            print_log(f'best checkpoint {path} not written: {err}', logger='current', level=logging.ERROR)
            raise CheckpointWriteError(path, err, newest_whole_checkpoint(runner.work_dir, self.out_dir)) from err
