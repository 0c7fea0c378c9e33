"""Trains any config of this project with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                 [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

Multi-GPU: tools/dist_train.sh CONFIG GPUS; slurm: tools/slurm_train.sh PARTITION JOB CONFIG.
"""
import logging
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

import mae_mm  # noqa: F401  registers the package and allows its checkpoints under weights_only
from mae_mm.engine.config_checks import check_data_paths
from mae_mm.engine.cpu_distributed import setup_cpu_distributed
from mae_mm.engine.resume import checkpoint_problem, find_resumable_checkpoint


def parse_args():
    parser = argparse.ArgumentParser(description='Train a mae_mm config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or with no value from the latest whole checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help="mixed precision through mmengine's AmpOptimWrapper (needs a GPU)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.encoder.mask_ratio=0.6')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Applies the command line to the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
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
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    check_data_paths(cfg, ('train_dataloader', 'val_dataloader') if cfg.get('val_cfg') is not None
                     else ('train_dataloader',))
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
