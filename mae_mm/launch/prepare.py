"""Launch-time preparation: from a config file and a command line to the config a Runner builds.

``tools/train.py`` and ``tools/test.py`` (and the suite's stages through them, and gpu_check's
demo rows) all go through :func:`prepare_run`, so a training and an evaluation of the same
config get the same runtime set-up, the same defaults and the same checks, in the same order,
before anything is built.
"""
import copy
import logging
import os.path as osp
from dataclasses import dataclass, field
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log

from mae_mm.engine.preemption import checked_signals, install_signal_handlers
from mae_mm.engine.resume import checkpoint_problem, find_resumable_checkpoint
from mae_mm.own_data import apply_own_data
from mae_mm.runtime import setup_runtime
from mae_mm.visualization.vis_backends import vis_backend_configs
from .config_checks import check_data_paths, check_gpu_decode_pipeline, count_accumulation_in_auto_scale_lr
from .cpu_distributed import setup_cpu_distributed
from .cuda_ops_check import check_cuda_ops
from .resume_checks import check_resume_data_position
from .schedule_checks import check_schedule

AMP_DTYPES = {'bf16': 'bfloat16', 'fp16': 'float16'}


@dataclass
class RunRequest:
    """What a command line asks of a run.

    Attributes:
        config: the config file.
        mode: 'train' (tools/train.py) or 'test' (tools/test.py).
        cfg_options: ``--cfg-options`` (dotted keys to values), merged over the file.
        launcher: 'none', 'pytorch', 'slurm' or 'mpi'.
        work_dir: the run's folder (default: the config's, else work_dirs/<config name>).
        resume: train: 'auto' (the newest whole checkpoint in work_dir) or a checkpoint path.
        amp: train: 'bf16' or 'fp16' autocast whatever the config says.
        vis: train: a visualiser backend besides mmengine's local one.
        checkpoint: test: the weights to evaluate.
        data_root: ``--data-root``: the user's own data folder, read in the layout of the config's
            task (:mod:`mae_mm.own_data`).
    """
    config: str
    mode: str = 'train'
    cfg_options: dict = field(default_factory=dict)
    launcher: str = 'none'
    work_dir: Optional[str] = None
    resume: Optional[str] = None
    amp: Optional[str] = None
    vis: Optional[str] = None
    checkpoint: Optional[str] = None
    data_root: Optional[str] = None


def prepare_run(request: RunRequest) -> Config:
    """The config a Runner builds for ``request``, checked; raises before anything is built when
    a checkpoint, a data path, a test set, the schedule, the GPU decode pipeline or the mmcv ops do
    not fit (:class:`~mae_mm.own_data.OwnDataError` for the user's own data folder,
    :class:`~.resume_checks.ResumeLayoutError` for a resume whose data position this run cannot continue)."""
    if request.mode not in ('train', 'test'):
        raise ValueError(f"RunRequest.mode must be 'train' or 'test', got {request.mode!r}")
    setup_runtime()
    if request.mode == 'test' and not osp.isfile(request.checkpoint or ''):
        raise FileNotFoundError(f'checkpoint not found: {request.checkpoint}')
    cfg = Config.fromfile(request.config)
    as_written = copy.deepcopy(cfg) if request.mode == 'train' else None
    cfg.merge_from_dict(request.cfg_options)
    apply_own_data(cfg, request.data_root, request.mode)
    if request.mode == 'train':
        catch_preemption_signals_early(cfg)
        check_schedule(cfg, as_written, request.config)
        check_gpu_decode_pipeline(cfg)
    else:
        for key in ('test_dataloader', 'test_evaluator'):
            if cfg.get(key) is None:
                raise KeyError(f'{request.config} has no {key}: nothing to evaluate with')
    apply_command_line(cfg, request)
    setup_cpu_distributed(cfg)
    if request.mode == 'train':
        add_sharded_state_hook(cfg)
        check_data_paths(cfg, ('train_dataloader', 'val_dataloader') if cfg.get('val_cfg') is not None
                         else ('train_dataloader',))
        check_resume_data_position(cfg)  # may choose the accumulation that keeps the checkpoint's total batch
        count_accumulation_in_auto_scale_lr(cfg)
    else:
        check_data_paths(cfg, ('test_dataloader',))
    check_cuda_ops(cfg)
    return cfg


def apply_command_line(cfg: Config, request: RunRequest) -> Config:
    """Writes ``request``'s launcher, work dir, precision, resume point, visualiser (train) or
    weights (test) into ``cfg``; returns it."""
    cfg.launcher = request.launcher
    if request.work_dir is not None:
        cfg.work_dir = request.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(request.config))[0])
    if request.mode == 'test':
        cfg.load_from, cfg.resume = request.checkpoint, False
        cfg.setdefault('test_cfg', dict())
        return cfg
    if request.amp:
        force_autocast(cfg.optim_wrapper, request.amp)
    if request.resume is not None:
        apply_resume(cfg, request.resume)
    if request.vis is not None:
        cfg.visualizer.vis_backends = vis_backend_configs(request.vis)
    return cfg


def force_autocast(optim_wrapper_cfg, amp: str) -> None:
    """Makes ``optim_wrapper_cfg`` an :class:`~mae_mm.engine.AutocastOptimWrapper` of ``amp``'s dtype
    ('bf16': no loss scaler; 'fp16': the config's ``loss_scale``, else a dynamic one)."""
    if amp not in AMP_DTYPES:
        raise ValueError(f'amp must be one of {sorted(AMP_DTYPES)}, got {amp!r}')
    optim_wrapper_cfg.type = 'mae_mm.AutocastOptimWrapper'
    optim_wrapper_cfg.dtype = AMP_DTYPES[amp]
    if amp == 'bf16':
        optim_wrapper_cfg.pop('loss_scale', None)
    else:
        optim_wrapper_cfg.setdefault('loss_scale', 'dynamic')


def apply_resume(cfg: Config, resume: str) -> None:
    """``resume='auto'``: the newest whole checkpoint in the work dir (mmengine would trust
    ``last_checkpoint``; we skip one that is not whole), or a fresh start with a warning;
    otherwise the checkpoint at that path, which must be whole."""
    if resume == 'auto':
        found = find_resumable_checkpoint(cfg.work_dir)
        if found is None:
            print_log(f'--resume: no whole checkpoint in {cfg.work_dir}, training from the start',
                      logger='current', level=logging.WARNING)
        else:
            cfg.resume, cfg.load_from = True, found
        return
    problem = checkpoint_problem(resume)
    if problem is not None:
        raise FileNotFoundError(f'--resume {resume}: {problem}')
    cfg.resume, cfg.load_from = True, resume


def add_sharded_state_hook(cfg) -> None:
    """A config trained with ``ShardedDataParallel`` gets :class:`~mae_mm.engine.ShardedStateHook`
    (its optimizer state saved and loaded in the DDP format); on one process mmengine wraps
    nothing, which the log says."""
    wrapper = cfg.get('model_wrapper_cfg') or {}
    if not str(wrapper.get('type', '')).endswith('ShardedDataParallel'):
        return
    if cfg.launcher == 'none':
        print_log('model_wrapper_cfg is ShardedDataParallel but this is one process: nothing to shard, the '
                  'model trains whole (launch with tools/dist_train.sh or tools/slurm_train.sh to shard it)',
                  logger='current', level=logging.WARNING)
    hooks = cfg.setdefault('custom_hooks', [])
    if not any(str(h.get('type', '')).endswith('ShardedStateHook') for h in hooks):
        hooks.append(dict(type='mae_mm.ShardedStateHook'))


def catch_preemption_signals_early(cfg) -> None:
    """When the config saves on signals (SaveOnSignalHook), catch them from now on rather than from
    when the Runner builds the hook: a signal while the model builds or a checkpoint loads then ends
    the run before its first iteration, cleanly, instead of killing it."""
    hook = next((h for h in cfg.get('custom_hooks') or [] if str(h.get('type', '')).endswith('SaveOnSignalHook')), None)
    if hook is not None:
        install_signal_handlers(checked_signals(hook.get('signals', ('SIGTERM', 'SIGUSR1'))))
