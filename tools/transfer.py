"""Transfer benchmarking in one command: a pretraining checkpoint in, a results table out.

    python tools/transfer.py CHECKPOINT --suite configs/suites/vit-base.py [--work-dir DIR]
           [--launcher local|slurm] [--gpus N] [--partition P] [--only finetune,coco]
           [--sweep KEY=V1,V2 ...] [--seeds N] [--retry-failed] [--replace] [--dry-run]
    python tools/transfer.py --status DIR [--wait S] # where every stage of a suite run stands
    python tools/transfer.py --compare DIR_A DIR_B   # two suite runs side by side

Every stage trains through tools/train.py and is evaluated by tools/test.py (locally, or on Slurm
through tools/slurm_train.sh: a job per stage, a job array per stage with sweeps or seeds),
starting from CHECKPOINT through model.backbone.init_cfg.checkpoint.
CHECKPOINT is one of our pretraining checkpoints, or an official or mmpretrain MAE one (converted
into DIR first). DIR/manifest.json records every point of every stage; the same command again skips
what is done, resumes what was killed from its newest whole checkpoint, and retries failures only
with --retry-failed. DIR ends with results.json (schema: tools/suite_run/results.py), results.md,
results.png and curves.png. Default DIR: work_dirs/transfer/<checkpoint name>-<suite name>.
Exit status: 0 when all ran, 1 when a stage failed, 2 when the run was refused, 75 when interrupted.
"""
import argparse
import os
import os.path as osp
import sys
import time

from suite_run import orchestrate as run
from suite_run.checkpoint_facts import NotAPretrainingCheckpoint, checkpoint_kind
from suite_run.launch_local import PointInterrupted
from suite_run.launch_slurm import SlurmError, require_sbatch
from suite_run.manifest import read_manifest, write_manifest
from suite_run.points import parse_sweeps
from suite_run.results import compare, read_results
from suite_run.suite import SuiteError, load_suite, pick_stages

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--suite', help='a suite file, e.g. configs/suites/vit-base.py')
    parser.add_argument('--work-dir')
    parser.add_argument('--launcher', choices=['local', 'slurm'], default='local')
    parser.add_argument('--gpus', type=int, help="processes per stage (local default 1; slurm default: the suite's)")
    parser.add_argument('--partition', help='Slurm partition (--launcher slurm)')
    parser.add_argument('--only', default='', help='comma-separated stages: pretrain,finetune,linprobe,coco,ade20k')
    parser.add_argument('--sweep', nargs='+', default=[], metavar='KEY=V1,V2', help='a grid over config keys')
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
    if not (args.status or args.compare) and not (args.checkpoint and args.suite):
        parser.error('give CHECKPOINT and --suite, or --status DIR, or --compare DIR_A DIR_B')
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    if args.seeds is not None and args.seeds < 1:
        parser.error('--seeds must be at least 1')
    return args


def show_status(work_dir: str, wait: float = 0.0) -> int:
    manifest = read_manifest(work_dir)
    if manifest is None:
        raise run.RunRefused(f'{work_dir} holds no manifest.json: not a suite run')
    deadline = time.time() + wait
    while manifest['launcher'] == 'slurm':  # --wait: until every job has left the queue, or the deadline
        if run.refresh_slurm(work_dir, manifest):
            write_manifest(work_dir, manifest)
        if time.time() >= deadline or not any(p['status'] == 'running' for _, p in run.iter_points(manifest)):
            break  # (an interrupted point waits for the user's next command, not for this loop)
        time.sleep(min(10.0, max(deadline - time.time(), 0.1)))
    print(f'{work_dir}: {manifest["checkpoint"]["path"]} with {manifest["suite"]["path"]} ({manifest["launcher"]})')
    for line in run.status_lines(work_dir, manifest):
        print('  ' + line)
    if run.all_ended(manifest):
        print(run.write_outputs(ROOT, work_dir, manifest))
    return 1 if any(p['status'] == 'failed' for _, p in run.iter_points(manifest)) else 0


def show_compare(dir_a: str, dir_b: str, out: str) -> int:
    a, b = read_results(dir_a), read_results(dir_b)
    name_a, name_b = osp.basename(osp.normpath(dir_a)), osp.basename(osp.normpath(dir_b))
    if name_a == name_b:
        name_a, name_b = 'A', 'B'
    text = compare(a, b, name_a, name_b)
    out = out or osp.join(dir_b, 'compare.md')
    with open(out, 'w') as f:
        f.write(text)
    print(text + f'\nwritten to {out}')
    return 0


def start(args) -> int:
    if not osp.isfile(args.checkpoint):
        raise NotAPretrainingCheckpoint(f'checkpoint not found: {args.checkpoint}')
    if args.launcher == 'slurm':
        require_sbatch()
    suite = load_suite(args.suite, ROOT)
    stages = pick_stages(suite, args.only)
    sweeps = parse_sweeps(args.sweep)
    work_dir = args.work_dir or osp.join('work_dirs', 'transfer', f'{osp.splitext(osp.basename(args.checkpoint))[0]}-'
                                         f'{osp.splitext(osp.basename(args.suite))[0]}')
    previous = read_manifest(work_dir)
    if previous is not None and previous['launcher'] == 'slurm' and run.refresh_slurm(work_dir, previous):
        write_manifest(work_dir, previous)  # jobs that ended since the last look are no longer 'running'
    ckpt = run.checkpoint_record(args.checkpoint, previous)
    previous, replaced = run.check_work_dir(work_dir, previous, ckpt, stages, args.replace)
    if previous is not None:
        ckpt.update(kind=previous['checkpoint']['kind'], converted=previous['checkpoint'].get('converted'))
        if args.launcher != previous['launcher']:
            raise run.RunRefused(f'{work_dir} was run with --launcher {previous["launcher"]}; use the same launcher')
    else:
        ckpt.update(kind=checkpoint_kind(args.checkpoint), converted=None)
    manifest = run.new_manifest(args, ckpt, args.suite, suite, run.merge_previous(
        run.build_points(stages, sweeps, args.seeds, ckpt['kind']), previous))
    if previous is not None:
        manifest['created'] = previous['created']
    points = [p for p in run.to_run(manifest, args.retry_failed) if p['stage'] in stages]
    if points:
        run.check_before_running(ROOT, manifest, points)
    if args.dry_run:
        if replaced:
            print(f'would discard {", ".join(replaced)} (--replace)')
        for p in points:
            print(f'would run {p["stage"]} {p["name"] or "(default)"}: {p["config"]} overrides={p["overrides"]} '
                  f'seed={p["seed"]} ({p["status"]})')
        print(f'{len(points)} point(s) to run; nothing was run (--dry-run)')
        return 0
    run.discard(work_dir, replaced, ckpt)  # only now: every check above passed with the old run intact
    if not points:
        run.say(f'nothing to run in {work_dir}: every point has ended')
    else:
        run.convert_if_needed(ROOT, work_dir, ckpt)
    if points or previous is None:
        write_manifest(work_dir, manifest)
    if args.launcher == 'slurm':
        run.run_slurm(ROOT, work_dir, manifest, points, args.gpus)
        return 0
    try:
        run.run_local(ROOT, work_dir, manifest, points, args.gpus, args.progress_interval)
    except PointInterrupted:
        return 75
    return show_status(work_dir)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.compare:
            return show_compare(*args.compare, args.out)
        if args.status:
            return show_status(args.status, args.wait)
        return start(args)
    except (run.RunRefused, NotAPretrainingCheckpoint, SuiteError, SlurmError, FileNotFoundError, ValueError) as err:
        print(f'transfer.py: {err}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
