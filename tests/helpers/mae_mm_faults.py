"""Fault injection for the reliability tests, loaded into a training run with
``custom_imports=dict(imports=['mae_mm_faults'])`` (tests/helpers on PYTHONPATH)."""
import json
import os
import signal
import sys
import time

import torch
from mmengine.dist import all_reduce, get_rank
from mmengine.hooks import Hook
from mmengine.model import BaseModel, is_model_wrapper

from mae_mm.engine.preemption import signal_received
from mae_mm.models.mae import MaskedAutoencoder
from mae_mm.registry import HOOKS, MODELS, TRANSFORMS


@HOOKS.register_module()
class KillDuringCheckpointWriteHook(Hook):
    """Kills the process (``os._exit``, no clean-up, like SIGKILL) in the middle of writing the
    checkpoint of epoch ``at_epoch``: after its bytes are written, before the file is in place."""

    def __init__(self, at_epoch: int):
        self.at_epoch = at_epoch

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['epoch'] == self.at_epoch:
            def die(fd):
                os._exit(137)
            os.fsync = die


@HOOKS.register_module()
class RecordImportedToolboxesHook(Hook):
    """Writes the top-level OpenMMLab toolboxes the process has imported, after training, to ``path`` (JSON)."""

    def __init__(self, path: str):
        self.path = path

    def after_train(self, runner):
        with open(self.path, 'w') as f:
            json.dump(sorted({m.split('.')[0] for m in sys.modules} & {'mmdet', 'mmseg', 'mmpretrain'}), f)


@HOOKS.register_module()
class InjectNonFiniteLossHook(Hook):
    """Multiplies the model's loss by NaN at training iteration ``at_iter`` (1-based), the first
    time the run reaches that iteration only: after a rollback the run passes it again, cleanly.
    With ``rank``, only in that process of a distributed run."""

    def __init__(self, at_iter: int, rank=None):
        self.at_iter = at_iter
        self.rank = rank
        self._saved = None
        self._fired = False

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._restore()  # a rollback skips the after_train_iter of the poisoned iteration
        if runner.iter + 1 != self.at_iter or self._fired or self.rank not in (None, get_rank()):
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        loss = model.loss
        model.loss = lambda *args, **kwargs: {k: v * float('nan') for k, v in loss(*args, **kwargs).items()}
        self._saved = (model, loss)
        self._fired = True

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._restore()

    def _restore(self):
        if self._saved is not None:
            model, loss = self._saved
            model.loss = loss
            self._saved = None


@MODELS.register_module()
class SampleSeededMaskedAutoencoder(MaskedAutoencoder):
    """Masking noise drawn from each sample's dataset index, and the logged loss averaged over
    ranks: so a 1-process and a 2-process run see the same masks and log comparable losses."""

    # mmengine's plain step (preprocess, forward(mode='loss'), update), which keeps the data
    # samples that carry each image's index; DDP's wrapper takes the same path
    train_step = BaseModel.train_step

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode != 'loss':
            return super().forward(inputs, data_samples, mode)
        noise = torch.stack([
            torch.rand(self.encoder.num_patches, generator=torch.Generator().manual_seed(s.sample_idx))
            for s in data_samples]).to(inputs.device)
        return self.loss(inputs, noise)

    def parse_losses(self, losses):
        loss, log_vars = super().parse_losses(losses)
        for key, value in log_vars.items():
            value = value.detach().clone()
            all_reduce(value, op='mean')
            log_vars[key] = value
        return loss, log_vars


@HOOKS.register_module()
class PauseAtIterHook(Hook):
    """At the start of each training iteration in ``at_iters`` (1-based), writes
    ``marker_dir/paused_<iter>_rank<rank>`` (holding this process's pid) and waits, up to
    ``timeout`` seconds, until the process has caught a signal or the test has written
    ``marker_dir/release_<iter>`` (for the ranks it does not signal): a test then signals the run
    in the middle of that iteration, however long its start-up took."""

    def __init__(self, at_iters, marker_dir, timeout=120):
        self.at_iters = set(at_iters)
        self.marker_dir = marker_dir
        self.timeout = timeout

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 not in self.at_iters:
            return
        path = os.path.join(self.marker_dir, f'paused_{runner.iter + 1}_rank{get_rank()}')
        with open(path + '.tmp', 'w') as f:
            f.write(str(os.getpid()))
        os.replace(path + '.tmp', path)
        release = os.path.join(self.marker_dir, f'release_{runner.iter + 1}')
        deadline = time.time() + self.timeout
        while signal_received() is None and not os.path.exists(release) and time.time() < deadline:
            time.sleep(0.05)


@HOOKS.register_module()
class SignalSelfHook(Hook):
    """Sends SIGUSR1 to this process before training starts (``when='before_train'``), or while
    the first checkpoint of epoch ``at_epoch``'s end is being written (``when='save'``)."""

    def __init__(self, when: str, at_epoch: int = 1):
        self.when = when
        self.at_epoch = at_epoch
        self._fired = False

    def before_train(self, runner):
        if self.when == 'before_train':
            os.kill(os.getpid(), signal.SIGUSR1)

    def before_save_checkpoint(self, runner, checkpoint):
        if self.when == 'save' and not self._fired and checkpoint['meta']['epoch'] == self.at_epoch:
            self._fired = True
            os.kill(os.getpid(), signal.SIGUSR1)


@HOOKS.register_module()
class CountAllReducesHook(Hook):
    """Counts the ``torch.distributed.all_reduce`` calls made from Python in each training
    iteration (DDP's gradient buckets go through its C++ reducer, not counted) and writes
    ``{iteration: count}`` to ``path_<rank>.json`` after training."""

    def __init__(self, path: str):
        self.path = path
        self.counts = {}
        self._current = None

    def before_train(self, runner):
        import torch.distributed as torch_dist

        original = torch_dist.all_reduce

        def counted(*args, **kwargs):
            if self._current is not None:
                self.counts[self._current] = self.counts.get(self._current, 0) + 1
            return original(*args, **kwargs)

        torch_dist.all_reduce = counted

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._current = runner.iter + 1
        self.counts.setdefault(self._current, 0)

    def after_train(self, runner):
        self._current = None
        with open(f'{self.path}_{get_rank()}.json', 'w') as f:
            json.dump(self.counts, f)


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):
    """After training, every rank saves its own model weights to ``path_<rank>.pth``."""

    def __init__(self, path: str):
        self.path = path

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, f'{self.path}_{get_rank()}.pth')


@HOOKS.register_module()
class FillDiskBeforeSaveHook(Hook):
    """Another process fills the disk: just before the checkpoint of epoch ``at_epoch`` is
    written (after mmengine's own CheckpointHook has removed the old one), writes
    ``ballast`` (a file on the checkpoints' file system) until ``leave_free`` bytes are left, so
    the checkpoint meets ENOSPC. With ``ballast=None`` it lowers RLIMIT_FSIZE to ``leave_free``
    bytes instead (EFBIG: Python ignores SIGXFSZ), for machines where a test cannot mount a tmpfs.

    It never writes more than ``max_bytes`` (default 256 MiB): where more is free, ``ballast`` is
    not on the small file system meant (a config run again after its tmpfs was unmounted), and
    the hook raises instead of filling a real disk."""

    def __init__(self, at_epoch: int, ballast=None, leave_free: int = 256 * 1024, max_bytes: int = 256 << 20):
        self.at_epoch = at_epoch
        self.ballast = ballast
        self.leave_free = leave_free
        self.max_bytes = max_bytes

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['epoch'] != self.at_epoch:
            return
        if self.ballast is None:
            import resource
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.leave_free, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
            return
        stat = os.statvfs(os.path.dirname(self.ballast))
        todo = stat.f_bavail * stat.f_frsize - self.leave_free
        if todo > self.max_bytes:
            raise RuntimeError(f'FillDiskBeforeSaveHook: {todo} bytes free beside {self.ballast}, more than '
                               f'max_bytes={self.max_bytes}: not the small test file system; nothing written')
        chunk = b'\0' * (1 << 20)
        with open(self.ballast, 'ab') as f:
            while todo > 0:
                f.write(chunk[:min(todo, len(chunk))])
                todo -= len(chunk)


@TRANSFORMS.register_module()
class RecordLoadedSample:
    """First transform of a test pipeline: appends each sample's index to
    ``out_dir/loaded_<pid>.txt`` (one file per DataLoader worker or process), so a test counts
    which images a run loaded."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def __call__(self, results):
        with open(os.path.join(self.out_dir, f'loaded_{os.getpid()}.txt'), 'a') as f:
            f.write(f'{results["sample_idx"]}\n')
        return results

