"""The refusals before a suite run starts: a work dir that holds another run, sweep keys a stage
config lacks, data that is not there. Nothing is discarded, submitted or trained here."""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from ..errors import RunRefused
from .manifest import iter_points, point_dir, process_gone, stage_dir
from .points import missing_keys


def run_identity(manifest: Dict) -> Tuple[str, str]:
    """What makes a run the same run, and how to name it: a suite run's checkpoint (its sha256); a
    study's pretraining config (path and sha256) and suite."""
    study = manifest.get('study')
    if study:
        return (f'study {study["config"]} {study["sha256"]} {manifest["suite"]["path"]}',
                f'the study of {study["config"]} (sha256 {study["sha256"][:12]}) through {manifest["suite"]["path"]}')
    ckpt = manifest['checkpoint']
    return f'checkpoint {ckpt["sha256"]}', f'the suite run of {ckpt["path"]} (sha256 {ckpt["sha256"][:12]})'


def check_work_dir(work_dir: str, previous: Optional[Dict], new: Dict, stages: Dict,
                   replace: bool) -> Tuple[Optional[Dict], List[str]]:
    """Refuses a work dir that holds another run (another checkpoint's, another study, or stage
    folders of no run) than ``new`` (a manifest with at least ``checkpoint`` or ``study`` and
    ``suite``), unless ``replace``. Returns the manifest to continue (None for a fresh run) and the
    folders a replacement would discard: nothing is discarded here, so the checks that follow can
    still refuse the run with the old one intact (:func:`mae_mm.suite.execute.prepare.discard`)."""
    stage_dirs = [stage_dir(work_dir, name, stage['train']) for name, stage in stages.items()]
    if previous is not None and run_identity(previous)[0] != run_identity(new)[0]:
        if not replace:
            if previous.get('study') or new.get('study'):
                raise RunRefused(f'{work_dir} holds {run_identity(previous)[1]}; this command is '
                                 f'{run_identity(new)[1]}: use another --work-dir, or --replace to discard that run')
            raise RunRefused(
                f'{work_dir} holds the suite run of another checkpoint ({previous["checkpoint"]["path"]}, sha256 '
                f'{previous["checkpoint"]["sha256"][:12]}; this one is {new["checkpoint"]["sha256"][:12]}): use '
                'another --work-dir, or --replace to discard that run')
        live = [f'{s} {p["name"]}'.strip() for s, p in iter_points(previous)
                if p['status'] == 'running' and not process_gone(previous, p)]
        if live:
            raise RunRefused(f'--replace: the run in {work_dir} still runs ({", ".join(live)}): wait for it or stop '
                             'it (scancel its jobs) first')
        old = [point_dir(work_dir, previous, s, p) for s, p in iter_points(previous)]
        return None, sorted(set(old + stage_dirs))
    if previous is None:
        leftovers = [d for d in stage_dirs if osp.isdir(d) and os.listdir(d)]
        if leftovers and not replace:
            raise RunRefused(f'{work_dir} has stage folders but no manifest.json ({", ".join(leftovers)}): '
                             'not a suite run to continue; use another --work-dir, or --replace to discard them')
        return None, leftovers
    return previous, []


def check_before_running(root: str, manifest: Dict, points: List[Dict]) -> None:
    """Sweep keys the stage config lacks, and missing dataset paths, for every point about to run
    (imports mmengine and torch: only when something runs)."""
    from mmengine.config import Config
    from mae_mm.launch.config_checks import check_data_paths

    for point in points:
        stage = manifest['stages'][point['stage']]['stage']
        cfg = Config.fromfile(osp.join(root, stage['config']), import_custom_modules=False)
        missing = missing_keys(cfg.to_dict(), point['overrides'])
        if missing:
            flag = '--pretrain-sweep' if stage.get('pretraining') or manifest.get('study') and not stage['train'] \
                else '--sweep'
            raise RunRefused(f'{flag}: {stage["config"]} has no {", ".join(missing)} (stage {point["stage"]})')
        cfg.merge_from_dict(point['overrides'])
        loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader') if stage['train'] else ('test_dataloader',)
        try:
            check_data_paths(cfg, loaders)
        except FileNotFoundError as err:
            raise RunRefused(f'stage {point["stage"]}: {err}') from err
