"""The toolboxes import and our models build with transformers >= 5 installed (the test extras pin it)."""
import subprocess
import sys

import pytest
from mmengine.utils import digit_version

from mae_mm import compat


def test_transformers_5_is_installed_for_the_suite():
    """Every other test (all four tasks train) then runs next to transformers >= 5."""
    found = compat._installed_version('transformers')
    assert found is not None and digit_version(found) >= digit_version('5.0.0'), \
        f'requirements/tests.txt installs transformers>=5; found {found}'


@pytest.mark.parametrize('imports', [
    'import mae_mm\nimport mmpretrain.models, mmdet.models, mmseg.models',
    # mmpretrain loaded first (its dependency module with the flag on), then mae_mm, whose seg package
    # imports mmseg.models and hence mmpretrain.models: tools/install.sh checks this order
    'import mmcv.ops, mmdet, mmseg, mmpretrain, mae_mm\nimport mmdet.models',
], ids=['mae_mm-first', 'toolboxes-first'])
def test_toolboxes_and_mae_mm_import_under_transformers_5(imports):
    code = imports + '\nfrom mmpretrain.utils import dependency\nprint(dependency.WITH_MULTIMODAL)\n'
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == 'False'


def test_compat_leaves_older_transformers_alone(monkeypatch):
    monkeypatch.setattr(compat, '_installed_version', lambda name: '4.44.2')
    assert not compat.transformers_breaks_mmpretrain()
    monkeypatch.setattr(compat, '_installed_version', lambda name: None)
    assert not compat.transformers_breaks_mmpretrain()
    assert not compat.disable_mmpretrain_multimodal()
