"""Evaluates a checkpoint with any config of this project (its test dataloader and evaluator).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out METRICS.json]
                                           [--cfg-options KEY=VALUE ...] [--launcher ...]
"""
import argparse
import json
import numbers
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mae_mm.engine.config_checks import check_data_paths
from mae_mm.engine.cpu_distributed import setup_cpu_distributed
from mae_mm.engine.cuda_ops_check import check_cuda_ops
from mae_mm.runtime import setup_runtime


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a mae_mm checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the logs go (default: work_dirs/<config name>)')
    parser.add_argument('--out', help='also write the metrics to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    setup_runtime()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    for key in ('test_dataloader', 'test_evaluator'):
        if cfg.get(key) is None:
            raise KeyError(f'{args.config} has no {key}: nothing to evaluate with')
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    cfg.setdefault('test_cfg', dict())
    setup_cpu_distributed(cfg)
    check_data_paths(cfg, ('test_dataloader',))
    check_cuda_ops(cfg)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    # metrics may be numpy scalars (mmseg's IoUMetric): numbers.Real covers them
    plain = {k: float(v) if isinstance(v, numbers.Real) else str(v) for k, v in metrics.items()}
    if args.out and is_main_process():
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(plain, f, indent=2)
    print(json.dumps(plain))


if __name__ == '__main__':
    main()
