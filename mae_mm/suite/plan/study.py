"""A study: a pretraining grid, every point pretrained, each point's checkpoint through a transfer
suite (``tools/transfer.py --pretrain CONFIG --pretrain-sweep KEY=V1,V2 --suite SUITE``).

What a study adds to a suite run's manifest (:mod:`.manifest`)::

    "study": {"config": absolute path of the pretraining config, "sha256": its bytes',
              "sweeps": {key: [values]}, "defaults": {key: the config's own value},
              "seeds": N or null, "random_init": bool},
    "checkpoint": null,
    "stages": {"pretraining": {"stage": {..., "pretraining": true}, "needs": [],
                               "points": [{"name", "overrides", "seed", "checkpoint", ...}]},
               "pretrain":    {"needs": ["pretraining"], "points": one per pretraining point, its overrides},
               "<transfer>":  {"needs": ["pretraining"], "points": [{"name": "<pretraining point>[/<sweep point>]",
                                                                    "upstream": "<pretraining point>", ...}]}}

A pretraining point is named after its overrides and seed (``mask_ratio=0.5_seed=0``; ``default``
without sweeps and seeds) and knows the checkpoint its training ends with (``checkpoint``), so a
Slurm transfer job can be submitted behind it before it exists. Each transfer point runs with its
pretraining point's seed. The ``pretrain`` evaluation runs on the study's pretraining config with
the point's own overrides (its mask ratio, decoder, target), not on the suite's config. With
``random_init`` each training stage also runs from no checkpoint, once per seed
(``random-init_seed=0``): the random-init row.
"""
import copy
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

from ..errors import RunRefused
from .checkpoint import file_sha256
from .graph import RANDOM_INIT, point_record
from .manifest import PRETRAINING, point_dir
from .points import grid, missing_keys, sweeps_of_stage

DEFAULT_POINT = 'default'  # the name of the one pretraining point of a study without sweeps or seeds


def load_config(path: str, overrides: Optional[Dict] = None):
    """The mmengine Config at ``path`` (no custom imports), with ``overrides`` merged. The file is
    parsed once per process (a study reads it once per point). A config that reads the size table
    (``configs/_base_/models/vit_sizes.py``) imports ``mae_mm.models`` and torch with it: a study's
    plan does, ``--status`` never loads a config."""
    from mmengine.config import Config

    key = (osp.abspath(path), os.stat(path).st_mtime_ns)
    if key not in _PARSED:
        _PARSED[key] = Config.fromfile(path, import_custom_modules=False)
    cfg = copy.deepcopy(_PARSED[key])
    if overrides:
        cfg.merge_from_dict(overrides)
    return cfg


_PARSED: Dict = {}


def final_checkpoint(cfg, work_dir: str) -> str:
    """The checkpoint a training of ``cfg`` in ``work_dir`` ends with: mmengine's CheckpointHook
    always saves the last epoch (iteration), as ``epoch_<max_epochs>.pth`` (``iter_<max_iters>.pth``).
    Refuses a config whose hook writes elsewhere or under another name."""
    hook = cfg.get('default_hooks', {}).get('checkpoint') or {}
    bad = [k for k in ('out_dir', 'filename_tmpl') if hook.get(k)]
    if bad or hook.get('save_last') is False:
        raise RunRefused(f'{cfg.filename}: default_hooks.checkpoint sets {bad or "save_last=False"}: a study needs '
                         'the final checkpoint in the point\'s work dir, under mmengine\'s default name')
    train_cfg = cfg.get('train_cfg') or {}
    if 'max_epochs' in train_cfg and hook.get('by_epoch', True):
        return osp.join(work_dir, f'epoch_{train_cfg["max_epochs"]}.pth')
    if 'max_iters' in train_cfg and not hook.get('by_epoch', True):
        return osp.join(work_dir, f'iter_{train_cfg["max_iters"]}.pth')
    raise RunRefused(f'{cfg.filename}: cannot tell its final checkpoint from train_cfg={dict(train_cfg)} and '
                     f'default_hooks.checkpoint.by_epoch={hook.get("by_epoch", True)}')


def config_value(cfg: dict, key: str):
    """The value at the dotted ``key`` of the plain-dict config (the key exists)."""
    node = cfg
    for part in key.split('.'):
        node = node[int(part)] if isinstance(node, (list, tuple)) else node[part]
    return node


def study_record(config: str, sweeps: Dict, seeds: Optional[int], random_init: bool) -> Dict:
    """The manifest's ``study`` entry; refuses a swept key that the pretraining config lacks."""
    if not osp.isfile(config):
        raise RunRefused(f'--pretrain: config not found: {config}')
    plain = load_config(config).to_dict()
    missing = missing_keys(plain, sweeps)
    if missing:
        raise RunRefused(f'--pretrain-sweep: {config} has no {", ".join(missing)}')
    defaults = {key: config_value(plain, key) for key in sweeps}
    return dict(config=osp.abspath(config), sha256=file_sha256(config), sweeps=sweeps, defaults=defaults,
                seeds=seeds, random_init=random_init)


def gpus_of(config: str) -> int:
    """The GPUs an OpenMMLab config's name states (``..._8xb512-...``: 8); 1 when it states none."""
    found = re.search(r'_(\d+)xb\d+', osp.basename(config))
    return int(found.group(1)) if found else 1


def pretraining_stage(study: Dict) -> Dict:
    """The stage that pretrains: the study's config on the GPUs its name states (on Slurm, unless
    ``--gpus``), with no evaluation of its own (the ``pretrain`` stage evaluates each point)."""
    return dict(config=study['config'], gpus=gpus_of(study['config']), train=True, metrics={}, select=None,
                lower_is_better=False, pretraining=True)


def study_stages(work_dir: str, study: Dict, stages: Dict, sweeps: Dict) -> Dict:
    """The manifest's ``stages`` of a study (see the module docstring): ``stages`` are the suite's
    stages this command runs (``--only``), ``sweeps`` the transfer grid (``--sweep``)."""
    stage = pretraining_stage(study)
    out = {PRETRAINING: dict(stage=stage, needs=[], points=[])}
    for p in grid(study['sweeps'], study['seeds']):
        record = point_record(dict(p, name=p['name'] or DEFAULT_POINT), PRETRAINING, stage)
        cfg = load_config(study['config'], record['overrides'])
        folder = point_dir(work_dir, {'stages': out}, PRETRAINING, record)
        record['checkpoint'] = final_checkpoint(cfg, osp.abspath(folder))
        out[PRETRAINING]['points'].append(record)
    chains = [(p['name'], p['name'], p['seed'], p['overrides']) for p in out[PRETRAINING]['points']]
    seeds = list(range(study['seeds'])) if study['seeds'] else [None]
    random_chains = [(RANDOM_INIT + (f'_seed={s}' if s is not None else ''), RANDOM_INIT, s, {}) for s in seeds]
    for name, suite_stage in stages.items():
        if suite_stage.get('evaluates'):  # its points follow its source's: mae_mm.suite.plan.evaluates
            continue
        if not suite_stage['train']:  # the pretrain evaluation: the study's config at the point's own overrides
            evaluated = dict(suite_stage, config=study['config'])
            points = [point_record(dict(name=prefix, overrides=overrides, seed=seed), name, evaluated, upstream)
                      for prefix, upstream, seed, overrides in chains]
            out[name] = dict(stage=evaluated, needs=[PRETRAINING], points=points)
            continue
        own = sweeps_of_stage(sweeps, name)
        points = []
        for prefix, upstream, seed, _ in chains + (random_chains if study['random_init'] else []):
            for q in grid(own, None):
                full = '/'.join(n for n in (prefix, q['name']) if n)
                points.append(point_record(dict(name=full, overrides=q['overrides'], seed=seed), name, suite_stage,
                                           upstream))
        out[name] = dict(stage=suite_stage, needs=[PRETRAINING], points=points)
    return out


def encoder_shape(cfg, key: str) -> Tuple[Dict, str]:
    """The ViT dimensions (embed_dim, depth, num_heads, mlp_ratio, patch_size) that the config's
    ``key`` (``model.encoder`` or ``model.backbone``) builds, and the key they were read at."""
    from mae_mm.models.vit.arch import resolve_arch  # the one size table, as the models read it

    node = cfg.to_dict()
    for part in key.split('.'):
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or 'arch' not in node:
        return {}, key
    return resolve_arch(node['arch'], node.get('patch_size')), key


def check_transfers_fit(study: Dict, pretraining_points: List[Dict], stages: Dict, root: str) -> None:
    """Refuses a grid whose pretrained encoder the suite's transfer configs cannot load: another
    width, depth, head count, MLP ratio or patch size than their backbone's, naming the point, the
    stage and the dimensions."""
    targets = {name: encoder_shape(load_config(osp.join(root, stage['config'])), 'model.backbone')
               for name, stage in stages.items() if stage['train']}
    for point in pretraining_points:
        ours, _ = encoder_shape(load_config(study['config'], point['overrides']), 'model.encoder')
        for name, (theirs, key) in targets.items() if ours else ():
            differ = {k: (ours[k], theirs[k]) for k in ours if k in theirs and ours[k] != theirs[k]}
            if differ:
                shown = ', '.join(f'{k} {a} vs {b}' for k, (a, b) in differ.items())
                raise RunRefused(f'pretraining point {point["name"]} ({point["overrides"] or "the config as is"}) '
                                 f'builds an encoder that stage {name} ({stages[name]["config"]}, {key}) cannot '
                                 f'load: {shown} (pretraining vs transfer); sweep keys that keep the encoder\'s '
                                 'shape, or use a suite of that size')
