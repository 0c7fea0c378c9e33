"""A suite run from start to table: the checks before anything runs, the manifest's points, the
launchers, the status, and the outputs (see tools/transfer.py for the command line)."""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from . import launch_local, launch_slurm
from .checkpoint_facts import checkpoint_kind, file_identity, sha256_of
from .manifest import VERSION, iter_points, pid_alive, point_dir, read_manifest, write_manifest
from .points import grid, missing_keys
from .progress import failure_reason, train_progress
from .results import bar_chart, collect, table

ENDED = ('done', 'failed', 'skipped')
OUTPUTS = ('results.json', 'results.md', 'results.png', 'curves.png')
EVAL_ONLY_DIR = 'pretrain-eval'  # not work_dir/pretrain: the demo pretrains there


class RunRefused(RuntimeError):
    """A suite run that must not start, with the reason (nothing was submitted or trained)."""


def say(line: str) -> None:
    print(f'[transfer {time.strftime("%H:%M:%S")}] {line}', flush=True)


def _dir_of(work_dir: str, stage: str, point: Dict, train: bool) -> str:
    return point_dir(work_dir, stage if train else EVAL_ONLY_DIR, point)


def _file_sha(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def checkpoint_record(path: str, previous: Optional[Dict]) -> Dict:
    """Path, size, mtime and sha256 of the checkpoint; the sha256 is reused when the file is the
    one the previous manifest recorded (same path, size and mtime), else read from the hash cache."""
    identity = file_identity(path)
    if previous and all(previous['checkpoint'].get(k) == v for k, v in identity.items()):
        return dict(previous['checkpoint'])
    return dict(identity, sha256=sha256_of(path))


def check_work_dir(work_dir: str, previous: Optional[Dict], ckpt: Dict, stages: Dict,
                   replace: bool) -> Tuple[Optional[Dict], List[str]]:
    """Refuses a work dir that holds another checkpoint's run (or stage folders of no run), unless
    ``replace``. Returns the manifest to continue (None for a fresh run) and the folders a
    replacement would discard: nothing is discarded here, so the checks that follow can still
    refuse the run with the old one intact (:func:`discard`)."""
    stage_dirs = [osp.join(work_dir, n if s['train'] else EVAL_ONLY_DIR) for n, s in stages.items()]
    if previous is not None and previous['checkpoint']['sha256'] != ckpt['sha256']:
        if not replace:
            raise RunRefused(
                f'{work_dir} holds the suite run of another checkpoint ({previous["checkpoint"]["path"]}, sha256 '
                f'{previous["checkpoint"]["sha256"][:12]}; this one is {ckpt["sha256"][:12]}): use another '
                '--work-dir, or --replace to discard that run')
        live = [f'{s} {p["name"]}'.strip() for s, p in iter_points(previous) if p['status'] == 'running'
                and (previous['launcher'] == 'slurm' or pid_alive(p))]
        if live:
            raise RunRefused(f'--replace: the run in {work_dir} still runs ({", ".join(live)}): wait for it or stop '
                             'it (scancel its jobs) first')
        old = [_dir_of(work_dir, s, p, previous['stages'][s]['stage']['train']) for s, p in iter_points(previous)]
        return None, sorted(set(old + stage_dirs))
    if previous is None:
        leftovers = [d for d in stage_dirs if osp.isdir(d) and os.listdir(d)]
        if leftovers and not replace:
            raise RunRefused(f'{work_dir} has stage folders but no manifest.json ({", ".join(leftovers)}): '
                             'not a suite run to continue; use another --work-dir, or --replace to discard them')
        return None, leftovers
    return previous, []


def discard(work_dir: str, dirs: List[str], ckpt: Dict) -> None:
    """Removes ``dirs`` (never one holding the checkpoint) and the run's manifest and outputs, and says so."""
    if not dirs:
        return
    say(f'--replace: discarding the previous run in {work_dir} ({", ".join(dirs)}); this checkpoint '
        f'({ckpt["sha256"][:12]}) starts every stage afresh')
    for d in dirs:
        if osp.isdir(d) and not osp.abspath(ckpt['path']).startswith(osp.abspath(d) + os.sep):
            shutil.rmtree(d)
    for name in OUTPUTS + ('manifest.json', 'pretrained_converted.pth'):
        if osp.exists(osp.join(work_dir, name)):
            os.remove(osp.join(work_dir, name))


def convert_if_needed(root: str, work_dir: str, ckpt: Dict) -> None:
    """An official or mmpretrain checkpoint is converted into the run dir with tools/convert_checkpoint.py."""
    if ckpt['kind'] == 'mae_mm':
        ckpt['converted'] = None
        return
    out = osp.join(work_dir, 'pretrained_converted.pth')
    if not osp.isfile(out):
        os.makedirs(work_dir, exist_ok=True)
        say(f'converting the {ckpt["kind"]} checkpoint into {out} (tools/convert_checkpoint.py --from {ckpt["kind"]})')
        proc = subprocess.run([sys.executable, osp.join(root, 'tools', 'convert_checkpoint.py'), ckpt['path'], out,
                               '--from', ckpt['kind']], capture_output=True, text=True, cwd=root)
        if proc.returncode != 0:
            raise RunRefused(f'converting {ckpt["path"]} failed: {proc.stderr.strip()[-500:]}')
    ckpt['converted'] = out


def build_points(stages: Dict, sweeps: Dict, seeds: Optional[int], kind: str) -> Dict:
    """``{stage: {'stage': suite stage, 'points': [...]}}`` with every point pending (the pretrain
    evaluation: one point, skipped for a checkpoint that is not ours)."""
    out = {}
    for name, stage in stages.items():
        points = grid(sweeps, seeds) if stage['train'] else grid({}, None)
        records = []
        for p in points:
            record = dict(p, stage=name, config=stage['config'], status='pending', reason=None, metrics=None,
                          job_id=None, log=None, pid=None, host=None)
            if not stage['train'] and kind != 'mae_mm':
                record.update(status='skipped', reason=f'a {kind} checkpoint: no reconstruction loss of ours')
            records.append(record)
        out[name] = dict(stage=stage, points=records)
    return out


def merge_previous(new: Dict, previous: Optional[Dict]) -> Dict:
    """Keeps the previous run's state for the points it has; a point whose config, overrides or seed
    changed under the same name is refused (its folder holds the other one). Earlier points outside
    this command's grid stay in the run (a second ``--sweep`` extends the grid) when they ended or
    still run; ones that never ran or were interrupted are dropped, so this command does not run them."""
    if previous is None:
        return new
    for name, record in new.items():
        old = {p['name']: p for p in previous['stages'].get(name, {}).get('points', [])}
        for i, point in enumerate(record['points']):
            before = old.pop(point['name'], None)
            if before is None:
                continue
            for key in ('config', 'overrides', 'seed'):
                if before[key] != point[key]:
                    raise RunRefused(f'stage {name} point {point["name"] or "(default)"} ran with {key}={before[key]!r}; '
                                     f'now {point[key]!r}: use another --work-dir')
            record['points'][i] = before
        kept = [p for p in old.values() if p['status'] in ENDED + ('running',)]
        if kept:
            say(f'{name}: keeping {len(kept)} earlier point(s) outside this grid '
                f'({", ".join(p["name"] or "(default)" for p in kept)})')
            record['points'].extend(kept)
    for name, record in previous['stages'].items():  # stages left out by --only stay in the manifest
        new.setdefault(name, record)
    return new


def to_run(manifest: Dict, retry_failed: bool) -> List[Dict]:
    points = []
    for _, point in iter_points(manifest):
        if point['status'] == 'running' and manifest['launcher'] == 'local' and not pid_alive(point):
            point['status'], point['reason'] = 'interrupted', f'the transfer.py (pid {point["pid"]}) that ran it is gone'
        if point['status'] == 'running':
            raise RunRefused(f'{point["stage"]} {point["name"]} is running (pid {point["pid"]}, job {point["job_id"]}): '
                             'wait for it, or follow it with --status')
        if point['status'] in ('pending', 'interrupted') or (point['status'] == 'failed' and retry_failed):
            points.append(point)
    return points


def check_before_running(root: str, manifest: Dict, points: List[Dict]) -> None:
    """Sweep keys the stage config lacks, and missing dataset paths, for every point about to run."""
    from mmengine.config import Config
    from mae_mm.engine.config_checks import check_data_paths  # imports torch: only when something runs

    for point in points:
        stage = manifest['stages'][point['stage']]['stage']
        cfg = Config.fromfile(osp.join(root, stage['config']), import_custom_modules=False)
        missing = missing_keys(cfg.to_dict(), point['overrides'])
        if missing:
            raise RunRefused(f'--sweep: {stage["config"]} has no {", ".join(missing)} (stage {point["stage"]})')
        cfg.merge_from_dict(point['overrides'])
        loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader') if stage['train'] else ('test_dataloader',)
        try:
            check_data_paths(cfg, loaders)
        except FileNotFoundError as err:
            raise RunRefused(f'stage {point["stage"]}: {err}') from err


def stage_checkpoint(manifest: Dict) -> str:
    return manifest['checkpoint']['converted'] or manifest['checkpoint']['path']


def run_local(root: str, work_dir: str, manifest: Dict, points: List[Dict], gpus: Optional[int],
              interval: float) -> None:
    for point in points:
        stage = manifest['stages'][point['stage']]['stage']
        label = point['stage'] + (f'/{point["name"]}' if point['name'] else '')
        resumed = point['status'] == 'interrupted'
        point.update(status='running', pid=os.getpid(), host=socket.gethostname(), reason=None,
                     started=time.time())
        write_manifest(work_dir, manifest)
        say(f'{label}: {"resuming from its newest whole checkpoint" if resumed else "started"} '
            f'({stage["config"]}; log {osp.join(_dir_of(work_dir, point["stage"], point, stage["train"]), "transfer.log")})')
        try:
            metrics = launch_local.run_point(root, stage, point, _dir_of(work_dir, point['stage'], point, stage['train']),
                                             stage_checkpoint(manifest), gpus or 1, say, interval)
        except launch_local.PointInterrupted as stop:
            point.update(status='interrupted', reason=str(stop))
            write_manifest(work_dir, manifest)
            say(f'{label}: interrupted; the same command resumes it')
            raise
        except RuntimeError as err:
            point.update(status='failed', reason=str(err), ended=time.time())
            say(f'{label}: failed: {err}')
        else:
            point.update(status='done', metrics=metrics, ended=time.time())
            say(f'{label}: done in {point["ended"] - point["started"]:.0f} s: '
                + ', '.join(f'{k}={v:.4g}' for k, v in metrics.items()))
        write_manifest(work_dir, manifest)


def run_slurm(root: str, work_dir: str, manifest: Dict, points: List[Dict], gpus: Optional[int]) -> None:
    """One job per stage of one point, one job array per stage of several; then the collection job."""
    by_stage: Dict[str, List[Dict]] = {}
    for point in points:
        by_stage.setdefault(point['stage'], []).append(point)
    jobs = []
    for stage_name, stage_points in by_stage.items():
        stage = manifest['stages'][stage_name]['stage']
        folders = [_dir_of(work_dir, stage_name, p, stage['train']) for p in stage_points]
        args = (root, manifest['partition'], stage)
        if len(stage_points) == 1:
            ids, logs = [launch_slurm.submit_point(*args, stage_points[0], folders[0], stage_checkpoint(manifest),
                                                   gpus or stage['gpus'])], [None]
        else:
            stage_dir = osp.join(work_dir, stage_name if stage['train'] else EVAL_ONLY_DIR)
            ids = launch_slurm.submit_array(*args, stage_points, folders, stage_dir, stage_checkpoint(manifest),
                                            gpus or stage['gpus'])
            logs = [osp.join(stage_dir, f'slurm-{job}.out') for job in ids]
        for point, job, log in zip(stage_points, ids, logs):
            point.update(status='running', job_id=job, log=log, reason=None, submitted=time.time())
            say(f'{stage_name}{"/" + point["name"] if point["name"] else ""}: submitted as job {job}')
        jobs.append(ids[0].split('_')[0] if len(ids) > 1 else ids[0])  # an array's id covers its tasks
        write_manifest(work_dir, manifest)
    if jobs:
        collector = launch_slurm.submit_collection(root, manifest['partition'], osp.abspath(work_dir), jobs)
        manifest['collect_job'] = collector
        write_manifest(work_dir, manifest)
        say(f'tables: job {collector} writes them after jobs {",".join(jobs)} (or: tools/transfer.py --status {work_dir})')


def refresh_slurm(work_dir: str, manifest: Dict) -> bool:
    """Moves running Slurm points to done or failed by squeue, scontrol and their metrics files."""
    active = [p for _, p in iter_points(manifest) if p['status'] == 'running' and p.get('job_id')]
    if not active:
        return False
    queue = launch_slurm.queue_states()
    changed = False
    for point in active:
        stage = manifest['stages'][point['stage']]['stage']
        folder = _dir_of(work_dir, point['stage'], point, stage['train'])
        state = queue.get(point['job_id'])
        point['slurm_state'] = state
        if state in launch_slurm.ACTIVE:
            continue
        metrics_file = osp.join(folder, 'metrics.json')
        ended, exit_code = launch_slurm.ended_state(point['job_id'])
        log = launch_slurm.job_log(folder, point)
        if osp.isfile(metrics_file) and ended in (None, 'COMPLETED'):
            try:
                point.update(status='done', metrics=launch_local.read_metrics(stage, metrics_file), ended=time.time())
            except RuntimeError as err:
                point.update(status='failed', reason=str(err))
        elif launch_slurm.resumable(ended, exit_code):  # the same command resubmits it with --resume
            point.update(status='interrupted', reason=f'job {point["job_id"]} {ended} (exit {exit_code}) before it '
                                                      f'ended: the same command resumes it (log {log})')
        else:
            point.update(status='failed', reason=f'job {point["job_id"]} ended ({ended or "gone from the queue"}) '
                                                 f'without metrics: {failure_reason(log)} (log {log})')
        changed = True
    return changed


def status_lines(work_dir: str, manifest: Dict) -> List[str]:
    lines = []
    for stage_name, point in iter_points(manifest):
        stage = manifest['stages'][stage_name]['stage']
        label = stage_name + (f'/{point["name"]}' if point['name'] else '')
        status = point['status']
        if status == 'running' and manifest['launcher'] == 'local' and not pid_alive(point):
            status, point['reason'] = 'interrupted', 'its transfer.py is gone'
        text = f'{label}: {status}'
        if status == 'done':
            text += ': ' + ', '.join(f'{k}={v:.4g}' for k, v in point['metrics'].items())
        elif status == 'running':
            folder = _dir_of(work_dir, stage_name, point, stage['train'])
            log = (osp.join(folder, 'transfer.log') if manifest['launcher'] == 'local'
                   else launch_slurm.job_log(folder, point))
            where = train_progress(log)
            extra = [f'job {point["job_id"]} {point.get("slurm_state") or ""}'.strip()] if point.get('job_id') else []
            text += ' (' + ', '.join(extra + [where or 'starting']) + ')'
        elif point.get('reason'):
            text += f': {point["reason"]}'
        lines.append(text)
    return lines


def all_ended(manifest: Dict) -> bool:
    return all(p['status'] in ENDED for _, p in iter_points(manifest))


def write_outputs(root: str, work_dir: str, manifest: Dict, force: bool = False) -> Optional[str]:
    """results.json/.md/.png and curves.png once every point has ended; returns the table. Skipped
    (the table read back) when results.json is newer than the manifest, unless ``force``."""
    results_json, md = osp.join(work_dir, 'results.json'), osp.join(work_dir, 'results.md')
    fresh = (osp.isfile(results_json) and osp.isfile(md)
             and os.stat(results_json).st_mtime_ns >= os.stat(osp.join(work_dir, 'manifest.json')).st_mtime_ns)
    if fresh and not force:
        with open(md) as f:
            return f.read()
    results = collect(manifest)
    text = table(manifest, results)
    with open(md, 'w') as f:
        f.write(text)
    bar_chart(manifest, results, osp.join(work_dir, 'results.png'))
    curve_dirs = [_dir_of(work_dir, s, p, manifest['stages'][s]['stage']['train']) for s, p in iter_points(manifest)
                  if p['status'] == 'done' and manifest['stages'][s]['stage']['train']]
    pretrain_dir = osp.dirname(osp.abspath(manifest['checkpoint']['path']))
    if manifest['checkpoint']['kind'] == 'mae_mm' and glob.glob(  # the pretraining run's own curves, if it has them
            osp.join(pretrain_dir, '**', 'vis_data', 'scalars.json'), recursive=True):
        curve_dirs.insert(0, pretrain_dir)
    keys = ['loss', 'knn/top1'] + sorted({k for _, p in iter_points(manifest)
                                          for k in manifest['stages'][p['stage']]['stage']['metrics'].values()})
    proc = subprocess.run([sys.executable, osp.join(root, 'tools', 'plot_curves.py'), *curve_dirs, '--keys',
                           ','.join(keys), '--out', osp.join(work_dir, 'curves.png')], capture_output=True, text=True)
    if proc.returncode != 0:
        say(f'curves.png not drawn: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}')
    with open(results_json, 'w') as f:  # last: its mtime marks the outputs fresh
        json.dump(results, f, indent=2)
    return text


def new_manifest(args, ckpt: Dict, suite_path: str, suite: Dict, stages: Dict) -> Dict:
    return dict(version=VERSION, created=time.strftime('%Y-%m-%d %H:%M:%S'), checkpoint=ckpt,
                suite=dict(path=suite_path, sha256=_file_sha(suite_path), cited=suite['cited']),
                launcher=args.launcher, partition=args.partition, stages=stages)
