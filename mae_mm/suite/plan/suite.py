"""Transfer suites (``configs/suites/*.py``): which transfer config each stage runs, on how many
GPUs, which metrics it reports and which cited figures it is set against."""
import os.path as osp
from typing import Dict

from ..errors import SuiteError

STAGE_NAMES = ('pretrain', 'finetune', 'linprobe', 'partial', 'coco', 'ade20k', 'detection', 'segmentation',
               'robustness', 'inat2017', 'inat2018', 'inat2019', 'places205', 'places365')
STAGE_KEYS = {'config', 'gpus', 'metrics', 'select', 'train', 'lower_is_better', 'evaluates', 'data_root'}


def load_suite(path: str, root: str) -> Dict:
    """The suite at ``path`` as plain data: ``{'stages': {name: {...}}, 'cited': {...}}``, stages in
    :data:`STAGE_NAMES` order, each with ``config`` (relative to ``root``), ``gpus`` (default 1),
    ``train`` (default True), ``metrics`` (results key -> tools/test.py key), ``select`` and
    ``lower_is_better`` (default False), and for a test-only stage of another stage's checkpoints
    ``evaluates`` (that training stage's name, earlier in the suite; :mod:`.evaluates`), and for a
    stage on the user's own data ``data_root`` (its folder, made absolute from the current
    directory; the config must have an ``own_data`` block: :mod:`mae_mm.own_data`). Every stage
    config must exist."""
    from mmengine.config import Config  # mmengine.config imports neither torch nor a toolbox

    if not osp.isfile(path):
        raise SuiteError(f'suite not found: {path}')
    raw = Config.fromfile(path, import_custom_modules=False).to_dict()
    stages = raw.get('stages')
    if not isinstance(stages, dict) or not stages:
        raise SuiteError(f'{path}: no `stages` dict')
    unknown = sorted(set(stages) - set(STAGE_NAMES))
    if unknown:
        raise SuiteError(f'{path}: unknown stages {unknown}; stages are {list(STAGE_NAMES)}')
    out = {}
    for name in (n for n in STAGE_NAMES if n in stages):
        stage = dict(stages[name])
        bad = sorted(set(stage) - STAGE_KEYS)
        if bad:
            raise SuiteError(f'{path}: stages.{name} has unknown keys {bad}; allowed: {sorted(STAGE_KEYS)}')
        config = stage.get('config')
        if not config:
            raise SuiteError(f'{path}: stages.{name}.config is missing')
        if not osp.isfile(osp.join(root, config)):
            raise SuiteError(f'{path}: stages.{name}.config does not exist: {config}')
        metrics = stage.get('metrics')
        if not isinstance(metrics, dict) or not metrics:
            raise SuiteError(f'{path}: stages.{name}.metrics must map result keys to tools/test.py keys')
        select = stage.get('select', next(iter(metrics)))
        if select not in metrics:
            raise SuiteError(f'{path}: stages.{name}.select={select!r} is not one of its metrics {list(metrics)}')
        gpus = stage.get('gpus', 1)
        if not isinstance(gpus, int) or gpus < 1:
            raise SuiteError(f'{path}: stages.{name}.gpus must be a positive integer, not {gpus!r}')
        out[name] = dict(config=config, gpus=gpus, train=bool(stage.get('train', True)), metrics=dict(metrics),
                         select=select, lower_is_better=bool(stage.get('lower_is_better', False)))
        if stage.get('data_root') is not None:
            out[name]['data_root'] = own_data_root(path, name, stage['data_root'], osp.join(root, config))
        source = stage.get('evaluates')
        if source is not None:
            if out[name]['train']:
                raise SuiteError(f'{path}: stages.{name}.evaluates needs train=False (a test of {source}\'s checkpoints)')
            if source not in out or not out[source]['train']:
                raise SuiteError(f'{path}: stages.{name}.evaluates={source!r} is not a training stage before it '
                                 f'({[n for n, s in out.items() if s["train"]]})')
            out[name]['evaluates'] = source
    return dict(stages=out, cited=dict(raw.get('cited') or {}))


def own_data_root(path: str, name: str, data_root, config: str) -> str:
    """A stage's ``data_root``, absolute; refused unless it is a folder and the stage's config reads
    own data (has an ``own_data`` block: its datasets then follow ``data_root``)."""
    from mmengine.config import Config

    if not isinstance(data_root, str) or not osp.isdir(osp.expanduser(data_root)):
        raise SuiteError(f'{path}: stages.{name}.data_root is not a folder: {data_root!r}')
    if Config.fromfile(config, import_custom_modules=False).get('own_data') is None:
        raise SuiteError(f'{path}: stages.{name}.data_root is set but its config {config} has no own_data block, so '
                         'its datasets would not read it: use a configs/own_data/ leaf (README "Your own data")')
    return osp.abspath(osp.expanduser(data_root))


def pick_stages(suite: Dict, only: str) -> Dict:
    """The suite's stages restricted to ``only`` ('fine-tune,coco'; '' keeps all). 'fine-tune' and
    'linear-probe' are accepted for 'finetune' and 'linprobe'."""
    if not only:
        return suite['stages']
    aliases = {'fine-tune': 'finetune', 'linear-probe': 'linprobe', 'partial-finetune': 'partial'}
    wanted = [aliases.get(s.strip(), s.strip()) for s in only.split(',') if s.strip()]
    missing = [s for s in wanted if s not in suite['stages']]
    if missing:
        raise SuiteError(f'--only {only}: {missing} not in this suite (it has {list(suite["stages"])})')
    return {name: stage for name, stage in suite['stages'].items() if name in wanted}
