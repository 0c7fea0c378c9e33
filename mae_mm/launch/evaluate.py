"""``tools/test.py``: evaluates a checkpoint with any config of this project (its test dataloader
and evaluator) and prints, optionally writes, the metrics as JSON."""
import argparse
import json
import numbers
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

from mmengine.config import DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mae_mm.own_data import OwnDataError
from .prepare import RunRequest, prepare_run


def parse_args(argv: Optional[List[str]] = None):
    """``tools/test.py``'s command line: (the :class:`RunRequest`, the ``--out`` path or None)."""
    parser = argparse.ArgumentParser(description='Evaluate a mae_mm checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the logs go (default: work_dirs/<config name>)')
    parser.add_argument('--out', help='also write the metrics to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--data-root', metavar='DIR',
                        help='your own data, in the layout of the config\'s task (tools/train.py --help)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return RunRequest(config=args.config, mode='test', cfg_options=args.cfg_options, launcher=args.launcher,
                      work_dir=args.work_dir, checkpoint=args.checkpoint, data_root=args.data_root), args.out


def plain_metrics(metrics: Dict) -> Dict:
    """Numbers as floats (mmseg's IoUMetric gives numpy scalars: numbers.Real covers them), the rest as text."""
    return {k: float(v) if isinstance(v, numbers.Real) else str(v) for k, v in metrics.items()}


def main(argv: Optional[List[str]] = None) -> int:
    """Evaluates as ``argv`` says, prints the metrics as one JSON line; returns 0, or 2 when the own
    data folder does not fit (one line on stderr)."""
    request, out = parse_args(argv)
    try:
        cfg = prepare_run(request)
    except OwnDataError as err:
        print(f'tools/test.py: {err}', file=sys.stderr)
        return 2
    metrics = plain_metrics(Runner.from_cfg(cfg).test())
    if out and is_main_process():
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(metrics, f, indent=2)
    print(json.dumps(metrics))
    return 0
