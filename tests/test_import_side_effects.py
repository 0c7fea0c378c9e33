"""`import mae_mm` registers and changes nothing else; a run's adjustments come from its config.

Each check of an import runs in a fresh interpreter: the test process itself has called
``setup_runtime()`` (conftest) and imported the toolboxes.
"""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.fileio import get_file_backend

from mae_mm.engine.atomic_backend import AtomicLocalBackend
from mae_mm.registry import SCOPE

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if osp.sep + '_base_' + osp.sep not in p and osp.sep + 'suites' + osp.sep not in p)  # suites: no runs
RUNTIME = 'mae_mm.runtime'
TOOLBOXES = ('mmdet', 'mmseg', 'mmpretrain')

# What a fresh process reports about the globals mae_mm must leave alone, before and after `STEP`.
PROBE = '''
import json, sys
import torch
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.fileio.backends import registry_utils
from mmengine.logging.history_buffer import HistoryBuffer

def state():
    return dict(local=registry_utils.backends['local'], prefix=registry_utils.prefix_to_backends.get(''),
                getstate=HistoryBuffer.__getstate__)

def name(obj):
    obj = obj[0] if isinstance(obj, tuple) else obj  # (object, 'name') entries
    return f'{getattr(obj, "__module__", None)}.{getattr(obj, "__qualname__", obj)}'

before, safe_before = state(), {name(g) for g in torch.serialization.get_safe_globals()}
STEP
after = state()
print(json.dumps(dict(
    unchanged={k: after[k] is before[k] for k in before},
    # torch allowlists its own classes as its submodules load (DTensor...): only others count
    safe_added=sorted(n for n in {name(g) for g in torch.serialization.get_safe_globals()} - safe_before
                      if not n.startswith('torch.')),
    local_is_mmengine=before['local'] is LocalBackend,
    file_backend=type(get_file_backend('work_dirs/x/epoch_1.pth')).__name__,
    toolboxes=sorted({m.split('.')[0] for m in sys.modules} & {'mmdet', 'mmseg', 'mmpretrain'}),
    mae_mm_modules=sorted(m for m in sys.modules if m == 'mae_mm' or m.startswith('mae_mm.')))))
'''


def probe(step: str) -> dict:
    """Runs ``step`` in a fresh interpreter; returns :data:`PROBE`'s report."""
    proc = subprocess.run([sys.executable, '-c', PROBE.replace('STEP', step)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def bare_import():
    return probe('import mae_mm')


def test_import_mae_mm_imports_no_toolbox(bare_import):
    assert bare_import['toolboxes'] == [], f'import mae_mm imported {bare_import["toolboxes"]}'


def test_import_mae_mm_leaves_mmengine_and_torch_as_they_were(bare_import):
    assert bare_import['local_is_mmengine']
    assert bare_import['unchanged'] == dict(local=True, prefix=True, getstate=True)
    assert bare_import['safe_added'] == []
    assert bare_import['file_backend'] == 'LocalBackend'


def test_runtime_makes_exactly_its_adjustments():
    """The counterpart: mae_mm.runtime changes the checkpoint globals and leaves the file backend."""
    report = probe(f'import {RUNTIME}')
    assert report['unchanged'] == dict(local=True, prefix=True, getstate=False)
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in report['safe_added']
    assert 'numpy.ndarray' in report['safe_added']
    assert report['file_backend'] == 'LocalBackend'


def test_loading_a_config_sets_up_the_runtime_and_checkpoints_load_with_weights_only(tmp_path):
    """A run's checkpoint round trip under torch >= 2.6 (mmengine's Runner saves, then loads with
    ``weights_only`` on), in a fresh process whose only mae_mm step is Config.fromfile (custom_imports)."""
    path = str(tmp_path / 'ckpt.pth')
    code = f'''
import numpy as np, torch
from mmengine.config import Config
from mmengine.logging import MessageHub
Config.fromfile({CONFIGS[0]!r})
hub = MessageHub.get_instance('probe')
hub.update_scalar('train/loss', 0.5)
torch.save(dict(meta=dict(seed=np.int64(7), arr=np.arange(3)), message_hub=hub.state_dict()), {path!r})
ckpt = torch.load({path!r}, weights_only=True)
print(ckpt['message_hub']['log_scalars']['train/loss'].current(), ckpt['meta']['seed'])
'''
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ['0.5', '7']


def _types(node):
    """Every ``type`` string in a config tree."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield node['type']
        for value in node.values():
            yield from _types(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _types(value)


def _our_class(type_name: str, default_scope: str):
    """The mae_mm class a config's type string builds, or None when it names another toolbox's."""
    from mae_mm import registry
    scope, _, name = type_name.rpartition('.')
    if (scope or default_scope) != SCOPE:
        return None
    for reg in vars(registry).values():
        if isinstance(reg, type(registry.MODELS)) and name in reg.module_dict:
            return reg.module_dict[name]
    return None


@pytest.fixture(scope='module')
def found_on_lookup():
    """What a fresh process has loaded once every registry of ours has been looked up: mmengine
    imports a registry's ``locations`` at its first lookup (``import mae_mm`` itself is lazy)."""
    return probe('import mae_mm.registry as registry\n'
                 'for reg in vars(registry).values():\n'
                 '    if isinstance(reg, registry.Registry):\n'
                 '        reg.import_from_location()')


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_every_config_sets_up_the_runtime_and_imports_what_it_builds(path, found_on_lookup):
    """Each config lists mae_mm.runtime, selects atomic checkpoint writes, and imports (through
    custom_imports) every mae_mm module it builds that its registry's locations do not load."""
    import mae_mm.datasets.gpu_decode  # noqa: F401  (all our classes registered, to look them up)
    import mae_mm.models.det  # noqa: F401
    import mae_mm.models.mae.jpeg_decode_preprocessor  # noqa: F401
    import mae_mm.models.seg  # noqa: F401

    cfg = Config.fromfile(path)
    imports = cfg.get('custom_imports', {}).get('imports', [])
    assert RUNTIME in imports, f'{path}: custom_imports lacks {RUNTIME!r} (has {imports})'
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if checkpoint is not None:
        assert checkpoint.get('backend_args') == dict(backend='atomic_local'), \
            f'{path}: default_hooks.checkpoint writes non-atomically ({checkpoint})'
        assert type(get_file_backend('work_dirs/x', backend_args=checkpoint.backend_args)) is AtomicLocalBackend
    loaded = set(found_on_lookup['mae_mm_modules'])
    missing = sorted({f'{t} ({cls.__module__})' for t in _types(cfg._cfg_dict)
                      for cls in [_our_class(t, cfg.get('default_scope'))]
                      if cls is not None and cls.__module__ not in loaded
                      and not any(cls.__module__ == m or cls.__module__.startswith(m + '.') for m in imports)})
    assert not missing, f'{path}: builds {missing}, which neither the registries\' locations nor custom_imports {imports} load'


@pytest.mark.slow
def test_a_pretraining_run_imports_neither_mmdet_nor_mmseg(demo_data, tmp_path):
    from reliability_utils import derived_config, run, short_schedule
    record = str(tmp_path / 'toolboxes.json')
    cfg = derived_config(tmp_path, 'short', 'train_cfg = dict(max_epochs=1)\n' + short_schedule(1) +
                         'train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(indices=32))\n',
                         extra_hooks=[dict(type='RecordImportedToolboxesHook', path=record)])
    run('tools/train.py', cfg, '--work-dir', str(tmp_path / 'run'))
    with open(record) as f:
        assert json.load(f) == ['mmpretrain']  # its datasets and transforms; no mmdet, no mmseg
