"""Trains any config of this project with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp {bf16,fp16}]
                                 [--vis local|tensorboard|wandb]
                                 [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

Multi-GPU: tools/dist_train.sh CONFIG GPUS; slurm: tools/slurm_train.sh PARTITION JOB CONFIG.
"""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mae_mm.engine.config_checks import check_data_paths, count_accumulation_in_auto_scale_lr
from mae_mm.engine.cpu_distributed import setup_cpu_distributed
from mae_mm.engine.cuda_ops_check import check_cuda_ops
from mae_mm.engine.preemption import TrainingPreempted, checked_signals, install_signal_handlers
from mae_mm.engine.resume import checkpoint_problem, find_resumable_checkpoint
from mae_mm.runtime import setup_runtime
from mae_mm.visualization import VIS_BACKENDS, vis_backend_configs


AMP_DTYPES = {'bf16': 'bfloat16', 'fp16': 'float16'}


def parse_args():
    parser = argparse.ArgumentParser(description='Train a mae_mm config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or with no value from the latest whole checkpoint in the work dir')
    parser.add_argument('--amp', choices=AMP_DTYPES,
                        help='mixed precision whatever the config says, through mae_mm.AutocastOptimWrapper: '
                             'bf16 autocast without a loss scaler, or fp16 autocast with a dynamic one '
                             '(bf16 also runs on CPU)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.encoder.mask_ratio=0.6')
    parser.add_argument('--vis', choices=VIS_BACKENDS,
                        help="visualiser backend besides mmengine's local one (scalars.json, PNGs): tensorboard "
                             '(pip install -e .[tensorboard]) or wandb (pip install -e .[wandb]); default: the config\'s')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def force_autocast(optim_wrapper_cfg, amp: str) -> None:
    """Makes ``optim_wrapper_cfg`` an :class:`~mae_mm.engine.AutocastOptimWrapper` of ``amp``'s dtype
    ('bf16': no loss scaler; 'fp16': the config's ``loss_scale``, else a dynamic one)."""
    optim_wrapper_cfg.type = 'mae_mm.AutocastOptimWrapper'
    optim_wrapper_cfg.dtype = AMP_DTYPES[amp]
    if amp == 'bf16':
        optim_wrapper_cfg.pop('loss_scale', None)
    else:
        optim_wrapper_cfg.setdefault('loss_scale', 'dynamic')


def merge_args(cfg, args):
    """Applies the command line to the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        force_autocast(cfg.optim_wrapper, args.amp)
    if args.resume == 'auto':
        # mmengine would trust work_dir/last_checkpoint; we skip a checkpoint that is not whole
        found = find_resumable_checkpoint(cfg.work_dir)
        if found is None:
            print_log(f'--resume: no whole checkpoint in {cfg.work_dir}, training from the start',
                      logger='current', level=logging.WARNING)
        else:
            cfg.resume, cfg.load_from = True, found
    elif args.resume is not None:
        problem = checkpoint_problem(args.resume)
        if problem is not None:
            raise FileNotFoundError(f'--resume {args.resume}: {problem}')
        cfg.resume, cfg.load_from = True, args.resume
    setup_cpu_distributed(cfg)
    return cfg


def main():
    args = parse_args()
    setup_runtime()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    catch_preemption_signals_early(cfg)
    cfg = merge_args(cfg, args)
    apply_vis_option(cfg, args.vis)
    check_data_paths(cfg, ('train_dataloader', 'val_dataloader') if cfg.get('val_cfg') is not None
                     else ('train_dataloader',))
    count_accumulation_in_auto_scale_lr(cfg)
    check_cuda_ops(cfg)
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except TrainingPreempted as stop:  # saved (or nothing to save yet): exit 75, resumable
        print_log(str(stop), logger='current', level=logging.WARNING)
        sys.exit(stop.code)


def apply_vis_option(cfg, vis) -> None:
    """``--vis NAME``: the config's visualiser writes to mmengine's LocalVisBackend and NAME's backend;
    a missing package stops here, before anything is built, naming the extra that installs it."""
    if vis is not None:
        cfg.visualizer.vis_backends = vis_backend_configs(vis)


def catch_preemption_signals_early(cfg) -> None:
    """When the config saves on signals (SaveOnSignalHook), catch them from now on rather than from
    when the Runner builds the hook: a signal while the model builds or a checkpoint loads then ends
    the run before its first iteration, cleanly, instead of killing it."""
    hook = next((h for h in cfg.get('custom_hooks') or [] if str(h.get('type', '')).endswith('SaveOnSignalHook')), None)
    if hook is not None:
        install_signal_handlers(checked_signals(hook.get('signals', ('SIGTERM', 'SIGUSR1'))))


if __name__ == '__main__':
    main()
