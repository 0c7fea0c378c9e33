"""The toolboxes import and our models build with transformers >= 5 installed (the test extras pin it)."""
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.utils import digit_version

from mae_mm import compat

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_transformers_5_is_installed_for_the_suite():
    """Every other test (all four tasks train) then runs next to transformers >= 5."""
    found = compat._installed_version('transformers')
    assert found is not None and digit_version(found) >= digit_version('5.0.0'), \
        f'requirements/tests.txt installs transformers>=5; found {found}'


@pytest.mark.parametrize('imports', [
    'import mae_mm.runtime\nimport mmpretrain.models, mmdet.models, mmseg.models',
    # mmpretrain loaded first (its dependency module with the flag on), then the runtime, then mae_mm's
    # seg package, which imports mmseg.models and hence mmpretrain.models: tools/install.sh checks this order
    'import mmcv.ops, mmdet, mmseg, mmpretrain, mae_mm.runtime\nimport mae_mm.models.seg, mmdet.models',
    # what a run does: the config's custom_imports set the runtime up before the Runner builds the model
    'from mmengine.config import Config\n'
    'Config.fromfile("configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py")\n'
    'import mmpretrain.models, mmdet.models',
], ids=['runtime-first', 'toolboxes-first', 'config-custom-imports'])
def test_toolboxes_and_mae_mm_import_under_transformers_5(imports):
    code = imports + '\nfrom mmpretrain.utils import dependency\nprint(dependency.WITH_MULTIMODAL)\n'
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == 'False'


def test_a_bare_import_of_mae_mm_leaves_mmpretrain_multimodal_on():
    """Only the runtime (configs, tools) switches the models off; `import mae_mm` leaves mmpretrain alone."""
    code = 'import mae_mm\nfrom mmpretrain.utils import dependency\nprint(dependency.WITH_MULTIMODAL)\n'
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == 'True'


def test_compat_leaves_older_transformers_alone(monkeypatch):
    monkeypatch.setattr(compat, '_installed_version', lambda name: '4.44.2')
    assert not compat.transformers_breaks_mmpretrain()
    monkeypatch.setattr(compat, '_installed_version', lambda name: None)
    assert not compat.transformers_breaks_mmpretrain()
    assert not compat.disable_mmpretrain_multimodal()
