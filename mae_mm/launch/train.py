"""``tools/train.py``: trains any config of this project with mmengine's Runner.

The parser lives here, not in the tool, so that the tool, ``gpu_check``'s demo rows and the tests
drive the same command line without loading a script by path.
"""
import argparse
import logging
import os
import sys
from typing import List, Optional

from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mae_mm.engine.preemption import TrainingPreempted
from mae_mm.own_data import OwnDataError
from mae_mm.visualization.vis_backends import VIS_BACKENDS
from .prepare import AMP_DTYPES, RunRequest, prepare_run
from .resume_checks import ResumeLayoutError


def parse_args(argv: Optional[List[str]] = None) -> RunRequest:
    """``tools/train.py``'s command line (``argv``; default ``sys.argv[1:]``) as a :class:`RunRequest`."""
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
    parser.add_argument('--data-root', metavar='DIR',
                        help='your own data, in the layout of the config\'s task: pretraining every image under DIR '
                             '(any layout); classification DIR/{train,val}/<class>/; detection COCO-format '
                             'DIR/annotations/{train,val}.json + DIR/{train,val}/; segmentation '
                             'DIR/{images,annotations}/{train,val}/ + DIR/classes.txt (README "Your own data")')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return RunRequest(config=args.config, mode='train', cfg_options=args.cfg_options, launcher=args.launcher,
                      work_dir=args.work_dir, resume=args.resume, amp=args.amp, vis=args.vis,
                      data_root=args.data_root)


def main(argv: Optional[List[str]] = None) -> int:
    """Trains as ``argv`` says; returns the exit status: 0, 2 when the own data folder or a resume's
    data position does not fit (one line on stderr), 75 when preempted (saved, resumable), or 69 when a peer of a distributed
    run was lost (:mod:`.lost_peer`; resumable from the newest whole checkpoint)."""
    try:
        cfg = prepare_run(parse_args(argv))
    except (OwnDataError, ResumeLayoutError) as err:
        print(f'tools/train.py: {err}', file=sys.stderr)
        return 2
    runner = Runner.from_cfg(cfg)
    from mae_mm.engine.checkpoint_hook import CheckpointWriteError
    from mae_mm.exit_codes import CHECKPOINT_NOT_WRITTEN
    try:
        runner.train()
    except TrainingPreempted as stop:  # saved (or nothing to save yet): resumable with --resume
        print_log(str(stop), logger='current', level=logging.WARNING)
        return stop.code
    except CheckpointWriteError as err:  # full disk / quota: the previous checkpoint is whole; one line, exit 74
        print(f'tools/train.py: {err}', file=sys.stderr)
        return CHECKPOINT_NOT_WRITTEN
    except RuntimeError as err:  # a peer of the distributed run is gone: one message, exit 69
        from .lost_peer import lost_peer_cause, report_lost_peer
        if lost_peer_cause(err) is None:
            raise
        return report_lost_peer(err, runner)
    return 0
