"""The package's layout contracts: a lazy top level, old import paths that still work, and tools and
tests that import project code as a package (no path edits, no loading files by path)."""
import importlib
import os
import os.path as osp
import re
import subprocess
import sys
import warnings

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

MOVED = {
    'mae_mm.convert': 'mae_mm.checkpoint.convert',
    'mae_mm.convert_hf': 'mae_mm.checkpoint.convert_hf',
    'mae_mm.hf_config': 'mae_mm.checkpoint.hf_config',
    'mae_mm.hf_files': 'mae_mm.checkpoint.hf_files',
    'mae_mm.checkpoint_io': 'mae_mm.checkpoint.file_io',
    'mae_mm.engine.checkpoint_safety': 'mae_mm.checkpoint.weights_only',
    'mae_mm.engine.config_checks': 'mae_mm.launch.config_checks',
    'mae_mm.engine.cpu_distributed': 'mae_mm.launch.cpu_distributed',
    'mae_mm.engine.cuda_ops_check': 'mae_mm.launch.cuda_ops_check',
}


@pytest.mark.parametrize('old,new', sorted(MOVED.items()))
def test_an_old_import_path_is_the_new_module_and_says_where_it_went(old, new):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert any(issubclass(w.category, DeprecationWarning) and f'{old} moved to {new}' in str(w.message)
               for w in caught), [str(w.message) for w in caught]


def test_the_top_level_is_lazy_and_loads_torch_only_with_a_subpackage():
    code = '\n'.join([
        'import sys, mae_mm',
        'assert "torch" not in sys.modules, "import mae_mm loaded torch"',
        'assert mae_mm.__version__',
        'mae_mm.models',
        'assert "torch" in sys.modules and "mae_mm.models" in sys.modules',
        'try:',
        '    mae_mm.no_such_part',
        'except AttributeError as e:',
        '    assert "no_such_part" in str(e)',
        'else:',
        '    raise SystemExit("no AttributeError")'])
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


# written split so that this file does not match itself
PATH_TRICKS = re.compile('|'.join(['sys' + r'\.path\.(insert|append|extend)', 'sys' + r'\.path\s*(\+=|=[^=])',
                                   'spec_from_file' + '_location', 'SourceFile' + 'Loader', 'run' + '_path',
                                   'import' + r'lib\.machinery']))


def test_no_tool_or_test_edits_sys_path_or_loads_code_by_file_path():
    found = []
    for folder in ('tools', 'tests'):
        for dirpath, _, files in os.walk(osp.join(ROOT, folder)):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = osp.join(dirpath, name)
                with open(path) as f:
                    for number, line in enumerate(f, 1):
                        if PATH_TRICKS.search(line):
                            found.append(f'{osp.relpath(path, ROOT)}:{number}: {line.strip()}')
    assert not found, '\n'.join(found)
