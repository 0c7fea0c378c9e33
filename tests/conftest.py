"""Shared fixtures: the demo data and one demo pretraining run, made once per session."""
import json
import os
import os.path as osp
import signal

import pytest
from reliability_utils import run

from mae_mm.runtime import setup_runtime

# what every tool and config does (mae_mm/runtime.py): before any test imports mmpretrain.models or
# loads a checkpoint; tests/test_import_side_effects.py checks a bare `import mae_mm` in fresh processes
setup_runtime()

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_PRETRAIN = 'configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'

# the session fixture slurm_cluster: a real single-node Slurm (tests/slurm_cluster.py)
pytest_plugins = ['slurm_cluster']


def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: trains, evaluates or times through the tools (tens of seconds or '
                            'more); pytest -m "not slow" runs the rest in a few minutes')


def run_tool(*args, timeout=1800):
    """Runs ``python tools/...`` from the repository root; returns its stdout, raises with its
    output on failure (:func:`reliability_utils.run`)."""
    return run(*args, timeout=timeout).stdout


def read_scalars(work_dir):
    """The records of mmengine's LocalVisBackend scalars.json under ``work_dir``."""
    paths = sorted(p for p in (osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs)
                   if p.endswith(osp.join('vis_data', 'scalars.json')))
    assert paths, f'no scalars.json under {work_dir}'
    with open(paths[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def scalars_by_step(records, key):
    """``{step: value}`` of one key in :func:`read_scalars`' records."""
    return {r['step']: r[key] for r in records if key in r}


def evaluate_before_training(config, pretrained, work_dir):
    """The test metrics of ``config``'s model straight after transfer (pretrained ViT from
    ``pretrained``, freshly initialised heads), evaluated in this process."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': pretrained})
    cfg.work_dir = str(work_dir)
    try:
        runner = Runner.from_cfg(cfg)
        runner.model.init_weights()
        return runner.test()
    finally:
        DefaultScope._instance_dict.clear()


@pytest.fixture(autouse=True)
def _signal_handlers_restored():
    """Puts back this process's SIGTERM and SIGUSR1 handlers after each test. A test that runs a
    tool in this process (``prepare_run`` of a config with SaveOnSignalHook) makes them only record
    the signal from then on; left so, a SIGTERM (a cancelled CI job, ``kill``) would no longer stop
    pytest, and a later test could inherit a signal caught in another."""
    from mae_mm.engine import preemption

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGUSR1)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    preemption._received = None


@pytest.fixture(scope='session')
def demo_data():
    run_tool('tools/make_demo_data.py', '--out', 'data/demo')
    return osp.join(ROOT, 'data', 'demo')


@pytest.fixture(scope='session')
def demo_pretrain(demo_data, tmp_path_factory):
    """Trains the demo pretraining config through tools/train.py; returns its work dir."""
    work_dir = str(tmp_path_factory.mktemp('demo_pretrain'))
    run_tool('tools/train.py', DEMO_PRETRAIN, '--work-dir', work_dir)
    return work_dir
