"""The command lines that run a point through the project's tools, and the metrics file they write.

The checkpoint reaches every stage on the command line: a training stage through
``--cfg-options model.backbone.init_cfg.checkpoint=...`` of ``tools/train.py``, an evaluation
(of that checkpoint, or of a training's newest one) as ``tools/test.py``'s CHECKPOINT argument.
"""
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

from ..plan.points import SEED_KEY

INIT_CHECKPOINT_KEY = 'model.backbone.init_cfg.checkpoint'


def cfg_options(point: Dict, weights: Optional[str] = None) -> List[str]:
    """The ``--cfg-options`` words of a point: its overrides, its seed, and for a training stage
    the checkpoint it starts from (``weights``)."""
    options = dict(point['overrides'])
    if point['seed'] is not None:
        options[SEED_KEY] = point['seed']
    if weights is not None:
        options[INIT_CHECKPOINT_KEY] = weights
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
    return {key: reported[test_key] for key, test_key in stage['metrics'].items()}
