"""Times a config's whole train step, ours and optionally the reference toolbox's: img/s and peak memory.

One step is the config's ``model.train_step`` (data preprocessor, forward, backward, optimizer step
through its optimizer wrapper). A contender's rate is the median over ``windows`` timed windows of
``steps`` steps, after ``warmup`` untimed steps, with the device synchronised at each window's ends;
with a reference both models stay resident and their windows alternate, so both see the same
machine state. Peak memory is each contender's own on CUDA, the process's RSS on the CPU.
"""
import contextlib
import dataclasses
import io
import logging
import resource
import statistics
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import BaseModel, revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mae_mm.registry import MODELS

from .batches import synthetic_batches, task_of
from .data import jpeg_batches
from .references import optim_wrapper_cfg, reference


class Refused(ValueError):
    """The config cannot be timed as asked (no counterpart in the reference toolbox, no annotations)."""


@dataclass(frozen=True)
class StepOptions:
    """What to time and how: the options of ``tools/benchmark.py``."""
    batch: Optional[int] = None  # images per step; None: the config's per-GPU batch
    steps: int = 10  # steps per timed window
    windows: int = 5  # timed windows (the median is reported)
    warmup: int = 3  # untimed steps first
    amp: Optional[str] = None  # 'bf16', 'fp16' or 'none'; None: bf16 on CUDA (fp16 for Mask R-CNN), none on CPU
    compile: bool = False  # mmengine's compile=True
    fused: bool = False  # fused AdamW in both models
    versus: Optional[str] = None  # 'mmpretrain' or 'mmseg': time the reference toolbox's model too
    data: str = 'synthetic'  # or 'jpeg': the config's train pipeline on generated JPEGs
    workers: int = 8  # DataLoader workers with data='jpeg'
    device: str = 'cpu'
    cfg_options: Optional[dict] = None  # merged into the config (tools/benchmark.py --cfg-options)

    def cli_args(self) -> List[str]:
        """These options as ``tools/benchmark.py`` arguments (the device left out, ``--amp`` only when set)."""
        args = ['--batch', str(self.batch), '--steps', str(self.steps), '--windows', str(self.windows),
                '--warmup', str(self.warmup)]
        args += ['--amp', self.amp] if self.amp else []
        args += ['--compile'] * self.compile + ['--fused'] * self.fused
        args += [f'--vs-{self.versus}'] if self.versus else []
        args += ['--data', 'jpeg', '--workers', str(self.workers)] if self.data == 'jpeg' else []
        args += ['--cfg-options', *(f'{k}={v}' for k, v in self.cfg_options.items())] if self.cfg_options else []
        return args


@dataclass(frozen=True)
class Setup:
    """How one contender runs."""
    label: str  # 'mae_mm', 'mmpretrain' or 'mmseg'
    wrapper: str  # its optimizer wrapper's class
    optimizer: str  # its optimizer's class
    fused: bool
    compiled: str  # 'train_step', 'forward' or 'nothing'


@dataclass(frozen=True)
class Timing:
    """One contender's figures."""
    setup: Setup
    window_rates: Tuple[float, ...]  # img/s of each timed window
    memory_gib: float
    memory_kind: str  # 'peak allocated' (CUDA: this contender's own) or 'peak RSS (process)' (CPU)

    @property
    def img_s(self) -> float:
        """The median of the windows' rates."""
        return statistics.median(self.window_rates)

    @property
    def memory(self) -> str:
        return f'{self.memory_gib:.2f} GiB {self.memory_kind}'


@dataclass(frozen=True)
class StepResult:
    options: StepOptions  # as run: the batch and amp resolved
    timings: Tuple[Timing, ...]  # ours, then the reference's

    @property
    def ratio(self) -> Optional[float]:
        """Our rate over the reference's, or None without a reference."""
        return self.timings[0].img_s / self.timings[1].img_s if len(self.timings) > 1 else None


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def seconds_per_step(device: str, steps: int, step: Callable[[], object]) -> float:
    """One timed window: ``steps`` calls of ``step``, the device synchronised at both ends; seconds per call."""
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - start) / steps


def compile_model(model, whole_step: bool) -> str:
    """mmengine's compile=True (``train_step``) where the model's own train_step allows it (mmengine's
    default train_step fails to compile inside the optimizer step on torch 2.14), else ``forward``;
    returns which."""
    if whole_step and type(model).train_step is not BaseModel.train_step:
        model.train_step = torch.compile(model.train_step)
        return 'train_step'
    model.forward = torch.compile(model.forward)
    return 'forward'


class Contender:
    """One model's train step, compiled and warmed up, with its own peak memory.

    Built one after the other: on CUDA a contender's peak is the peak allocated while it
    was built and warmed up, minus what the contenders before it still hold.
    """

    def __init__(self, label, build_model, wrapper_cfg, batches, options: StepOptions, on_ready, whole_step=True):
        cuda = options.device.startswith('cuda')
        if cuda:
            held = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        self.options, self.batches = options, batches
        self.model = build_model().to(options.device).train()
        with contextlib.redirect_stdout(io.StringIO()):  # mmseg's constructor prints every parameter's group
            self.wrapper = build_optim_wrapper(self.model, wrapper_cfg)
        optimizer = self.wrapper.optimizer
        self.setup = Setup(label, type(self.wrapper).__name__, type(optimizer).__name__,
                           bool(optimizer.defaults.get('fused')),
                           compile_model(self.model, whole_step) if options.compile else 'nothing')
        on_ready(self.setup)
        for _ in range(options.warmup):
            self.step()
        sync(options.device)
        # on the CPU, RSS is per process: read at the end
        self.memory_gib = (torch.cuda.max_memory_allocated() - held) / 2 ** 30 if cuda else None
        self.rates = []

    def step(self):
        self.model.train_step(next(self.batches), optim_wrapper=self.wrapper)

    def window(self):
        options = self.options
        self.rates.append(options.batch / seconds_per_step(options.device, options.steps, self.step))

    def timing(self) -> Timing:
        if self.memory_gib is not None:
            return Timing(self.setup, tuple(self.rates), self.memory_gib, 'peak allocated')
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
        return Timing(self.setup, tuple(self.rates), rss, 'peak RSS (process)')


def resolved(cfg, options: StepOptions) -> StepOptions:
    """``options`` with the config's batch and the device's default precision filled in, checked
    against what the config can be timed with (:class:`Refused` otherwise)."""
    task = task_of(cfg)
    toolbox, _ = reference(cfg)
    if options.versus and toolbox != options.versus:
        raise Refused(f'--vs-{options.versus}: {cfg.filename} has no {options.versus} counterpart here '
                      '(--vs-mmpretrain takes pretraining and fine-tuning configs, --vs-mmseg ADE20K UperNet configs)')
    if options.data == 'jpeg' and task in ('segment', 'detect'):
        raise Refused(f'--data jpeg: {cfg.filename} needs annotations; use --data synthetic')
    amp = options.amp or (('fp16' if task == 'detect' else 'bf16') if options.device.startswith('cuda') else 'none')
    return dataclasses.replace(options, batch=options.batch or cfg.train_dataloader.batch_size, amp=amp)


def time_train_step(config: str, options: StepOptions,
                    on_ready: Callable[[Setup], None] = lambda setup: None) -> StepResult:
    """Times ``config``'s train step (and its reference's with ``options.versus``).

    Args:
        config: a config file.
        options: what to time; see :class:`StepOptions`.
        on_ready: called with each contender's :class:`Setup` once it is built, before its warm-up
            (which compiles it with ``options.compile``: minutes on a GPU).

    Returns:
        The rates and peak memory of our model and of the reference's.

    Raises:
        Refused: the config has no counterpart in ``options.versus``, or needs annotations that
            generated JPEGs do not have.
    """
    MMLogger.get_instance('benchmark', log_level=logging.WARNING)  # no per-parameter optimizer lines
    cfg = Config.fromfile(config)
    if options.cfg_options:
        cfg.merge_from_dict(options.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    options = resolved(cfg, options)
    if options.fused:
        cfg.optim_wrapper.optimizer.fused = True

    def batches():
        if options.data == 'synthetic':
            return synthetic_batches(cfg, options.batch, options.device)
        return jpeg_batches(cfg, options.batch, options.workers)

    def build(builder):
        return lambda: revert_sync_batchnorm(builder())  # one process: BN, as mmengine's runner does

    runs = [Contender('mae_mm', build(lambda: MODELS.build(cfg.model)), optim_wrapper_cfg(cfg, options.amp),
                      batches(), options, on_ready)]
    if options.versus:
        runs.append(Contender(options.versus, build(reference(cfg)[1]), optim_wrapper_cfg(cfg, options.amp, ours=False),
                              batches(), options, on_ready, whole_step=False))
    for _ in range(options.windows):  # alternating windows: both see the same machine load
        for run in runs:
            run.window()
    return StepResult(options, tuple(run.timing() for run in runs))
