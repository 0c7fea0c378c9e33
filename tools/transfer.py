"""Transfer benchmarking in one command: a pretraining checkpoint in, a results table out; or a
study: a pretraining grid, every point pretrained and benchmarked, one table.

    python tools/transfer.py CHECKPOINT --suite configs/suites/vit-base.py [--work-dir DIR]
           [--launcher local|slurm] [--gpus N] [--partition P] [--only finetune,coco]
           [--sweep [STAGE:]KEY=V1,V2 ...] [--seeds N] [--random-init] [--retry-failed] [--replace] [--dry-run]
    python tools/transfer.py --pretrain CONFIG --pretrain-sweep KEY=V1,V2 [...] --suite SUITE [same options]
    python tools/transfer.py --status DIR [--wait S] # where every stage of a suite run (a study) stands
    python tools/transfer.py --compare DIR_A DIR_B   # two suite runs side by side

A study (--pretrain) pretrains CONFIG at every point of the --pretrain-sweep grid (several keys: their
product; --seeds N: each point N times, its transfers with the same seed) through tools/train.py,
then runs each point's final checkpoint through the suite's stages; on Slurm each transfer job waits
for its pretraining job (afterok). The `pretrain` stage evaluates each point with its own overrides.
--sweep KEY=... sweeps every training stage; --sweep STAGE:KEY=... one stage (in a study: a column
per value, e.g. partial:model.backbone.trainable_blocks=1,4). --random-init adds the same transfers
from no checkpoint: a row "random init, this transfer recipe". results.json of a study: its schema is
in mae_mm/suite/report/study.py. Default DIR of a study: work_dirs/study/<config name>-<suite name>.

Every stage trains through tools/train.py and is evaluated by tools/test.py (locally, or on Slurm
through tools/slurm_train.sh: a job per stage, a job array per stage with sweeps or seeds),
starting from CHECKPOINT through model.backbone.init_cfg.checkpoint; an evaluation-only stage
passes CHECKPOINT to tools/test.py.
CHECKPOINT is one of our pretraining checkpoints, or an official or mmpretrain MAE one (converted
into DIR first). DIR/manifest.json records every point of every stage; the same command again skips
what is done, resumes what was killed from its newest whole checkpoint, and retries failures only
with --retry-failed. DIR ends with results.json (schema: mae_mm/suite/report/results.py), results.md,
results.png and curves.png. Default DIR: work_dirs/transfer/<checkpoint name>-<suite name>.
Exit status: 0 when all ran, 1 when a stage failed, 2 when the run was refused, 75 when interrupted.
The code: mae_mm/suite/ (plan, execute, report; mae_mm/suite/run.py ties them).
"""
import argparse
import os.path as osp
import sys

from mae_mm.suite.errors import REFUSALS
from mae_mm.suite.request import SuiteRequest
from mae_mm.suite.run import show_compare, show_status, start

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--pretrain', metavar='CONFIG', help='a study: pretrain CONFIG at every point of the grid first')
    parser.add_argument('--pretrain-sweep', nargs='+', default=[], metavar='KEY=V1,V2',
                        help="a study's grid over the pretraining config's keys (several: their product)")
    parser.add_argument('--random-init', action='store_true',
                        help='also run every training stage from no checkpoint (a baseline row)')
    parser.add_argument('--suite', help='a suite file, e.g. configs/suites/vit-base.py')
    parser.add_argument('--work-dir')
    parser.add_argument('--launcher', choices=['local', 'slurm'], default='local')
    parser.add_argument('--gpus', type=int, help="processes per stage (local default 1; slurm default: the suite's)")
    parser.add_argument('--partition', help='Slurm partition (--launcher slurm)')
    parser.add_argument('--only', default='',
                        help='comma-separated stages: pretrain,finetune,linprobe,partial,coco,ade20k,detection,segmentation,...')
    parser.add_argument('--sweep', nargs='+', default=[], metavar='[STAGE:]KEY=V1,V2',
                        help="a grid over the transfer configs' keys (STAGE: one stage's)")
    parser.add_argument('--seeds', type=int, help='run every point with seeds 0..N-1 (randomness.seed)')
    parser.add_argument('--retry-failed', action='store_true', help='run failed points again')
    parser.add_argument('--replace', action='store_true',
                        help="discard DIR's run when it holds another checkpoint's (tools/demo.sh does)")
    parser.add_argument('--dry-run', action='store_true', help='check everything and print the plan; run nothing')
    parser.add_argument('--status', metavar='DIR', help='print where the run in DIR stands (and write its tables when all ended)')
    parser.add_argument('--wait', type=float, default=0.0, metavar='SECONDS',
                        help='with --status of a Slurm run: wait up to SECONDS for its jobs to end first')
    parser.add_argument('--compare', nargs=2, metavar=('DIR_A', 'DIR_B'))
    parser.add_argument('--out', help='with --compare: the markdown file (default DIR_B/compare.md)')
    parser.add_argument('--progress-interval', type=float, default=30.0, help='seconds between progress lines')
    args = parser.parse_args(argv)
    if not (args.status or args.compare) and not ((args.checkpoint or args.pretrain) and args.suite):
        parser.error('give CHECKPOINT and --suite, or --pretrain CONFIG and --suite, or --status DIR, or '
                     '--compare DIR_A DIR_B')
    if args.checkpoint and args.pretrain:
        parser.error('give CHECKPOINT (a suite run) or --pretrain CONFIG (a study), not both')
    if args.pretrain_sweep and not args.pretrain:
        parser.error('--pretrain-sweep needs --pretrain CONFIG')
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    if args.seeds is not None and args.seeds < 1:
        parser.error('--seeds must be at least 1')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.compare:
            return show_compare(*args.compare, args.out)
        if args.status:
            return show_status(args.status, args.wait)
        return start(SuiteRequest(
            checkpoint=args.checkpoint, suite=args.suite, work_dir=args.work_dir, launcher=args.launcher,
            partition=args.partition, gpus=args.gpus, only=args.only, sweeps=tuple(args.sweep), seeds=args.seeds,
            retry_failed=args.retry_failed, replace=args.replace, dry_run=args.dry_run,
            progress_interval=args.progress_interval, pretrain=args.pretrain,
            pretrain_sweeps=tuple(args.pretrain_sweep), random_init=args.random_init), ROOT)
    except REFUSALS as err:
        print(f'transfer.py: {err}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
