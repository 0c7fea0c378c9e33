"""The command lines that run a point through the project's tools, and the metrics file they write.

The checkpoint reaches every stage on the command line: a training stage through
``--cfg-options model.backbone.init_cfg.checkpoint=...`` of ``tools/train.py`` (the random-init
row: ``model.backbone.init_cfg=None``, the backbone's own initialisation), an evaluation (of that
checkpoint, or of a training's newest one) as ``tools/test.py``'s CHECKPOINT argument. A study's
pretraining stage starts from nothing and is evaluated by the ``pretrain`` stage, not here.
"""
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

from ..plan.points import SEED_KEY

INIT_CHECKPOINT_KEY = 'model.backbone.init_cfg.checkpoint'
NO_INIT = {'model.backbone.init_cfg': None}  # the random-init row


def start_options(stage: Dict, weights: Optional[str]) -> Dict:
    """The options that give a stage its data and a transfer training its starting weights: the
    stage's own ``data_root`` when it has one (every stage, evaluations too); ``weights``, or
    none at all (random init) when ``weights`` is None. No weights for an evaluation (they are
    test.py's CHECKPOINT) or for pretraining."""
    data = {'data_root': stage['data_root']} if stage.get('data_root') else {}
    if not stage['train'] or stage.get('pretraining'):
        return data
    return dict(data, **(NO_INIT if weights is None else {INIT_CHECKPOINT_KEY: weights}))


def cfg_options(point: Dict, start: Optional[Dict] = None) -> List[str]:
    """The ``--cfg-options`` words of a point: its overrides (an evaluation of another stage's
    checkpoint also those of the point it evaluates: the same model), its seed, and what it starts
    from (:func:`start_options`)."""
    options = dict((point.get('evaluated') or {}).get('overrides') or {}, **point['overrides'])
    if point['seed'] is not None:
        options[SEED_KEY] = point['seed']
    options.update(start or {})
    return [f'{k}={v}' for k, v in options.items()]


def option_words(options: List[str]) -> List[str]:
    """``['--cfg-options', *options]``, or nothing for no options (the tools refuse an empty list)."""
    return ['--cfg-options', *options] if options else []


def train_command(root: str, stage: Dict, point_dir: str, options: List[str], gpus: int) -> List[str]:
    """``tools/train.py --resume`` (``tools/dist_train.sh`` for more than one process)."""
    config = osp.join(root, stage['config'])
    args = ['--work-dir', point_dir, '--resume', *option_words(options)]
    if gpus > 1:
        return ['bash', osp.join(root, 'tools', 'dist_train.sh'), config, str(gpus), *args]
    return [sys.executable, osp.join(root, 'tools', 'train.py'), config, *args]


def test_command(root: str, stage: Dict, point_dir: str, checkpoint: str, options: List[str], gpus: int,
                 out: str) -> List[str]:
    """``tools/test.py CONFIG CHECKPOINT --out OUT`` (``tools/dist_test.sh`` for more than one process)."""
    config = osp.join(root, stage['config'])
    args = ['--work-dir', point_dir, '--out', out, *option_words(options)]
    if gpus > 1:
        return ['bash', osp.join(root, 'tools', 'dist_test.sh'), config, checkpoint, str(gpus), *args]
    return [sys.executable, osp.join(root, 'tools', 'test.py'), config, checkpoint, *args]


def read_metrics(stage: Dict, path: str) -> Dict:
    """The stage's results keys from the ``tools/test.py --out`` file at ``path``."""
    with open(path) as f:
        reported = json.load(f)
    absent = [test_key for test_key in stage['metrics'].values() if test_key not in reported]
    if absent:
        raise RuntimeError(f'{path} lacks {absent} (the suite\'s metrics); it has {sorted(reported)}')
    return {key: _finite_or_none(reported[test_key]) for key, test_key in stage['metrics'].items()}


def _finite_or_none(value):
    """A metric as results.json keeps it: None for NaN, which a metric reports for what it could
    not measure (an ImageNet-C copy missing a corruption: no mCE), so no mean includes it."""
    return None if isinstance(value, float) and value != value else value
