"""tools/install.sh --print-plan: which mmcv build (CPU or CUDA ops), arch list and wheel cache the
install would use, decided from the venv's torch and the toolkit; faked here, nothing is built.

The venv's python is a script that prints the facts the install probes for (torch version and
CUDA build, the visible GPUs' compute capabilities) and nvcc is a script printing a release.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import ROOT

CPU_MACHINE = dict(TORCH_SEEN='2.14.1', TORCH_CUDA='13.0', GPU_ARCHS='')  # this machine: CUDA torch, no GPU
H100 = dict(CPU_MACHINE, GPU_ARCHS='9.0')


def fake_machine(tmp_path, facts, nvcc_release='13.0'):
    """A venv whose python reports ``facts`` and a bin/ whose nvcc (or none) reports ``nvcc_release``."""
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    lines = ''.join(f'{k}={v}\n' for k, v in dict(facts, MAE_MM_HERE='1').items())
    (tmp_path / 'facts').write_text(lines)
    python = venv / 'bin' / 'python'
    python.write_text(f'#!/bin/sh\ncat {tmp_path / "facts"}\n')
    python.chmod(0o755)
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    if nvcc_release:
        nvcc = bin_dir / 'nvcc'
        nvcc.write_text('#!/bin/sh\ncase "$*" in\n'
                        "  *--dryrun*) echo '#$ _HERE_=/opt/cuda-fake/bin' >&2 ;;\n"
                        f"  *--version*) echo 'Cuda compilation tools, release {nvcc_release}, V{nvcc_release}.1' ;;\n"
                        'esac\n')
        nvcc.chmod(0o755)
    return venv, bin_dir


def plan(tmp_path, facts, *flags, nvcc_release='13.0', **env_vars):
    """(returncode, {key: value} of the printed plan, stderr)."""
    venv, bin_dir = fake_machine(tmp_path, facts, nvcc_release)
    env = {k: v for k, v in os.environ.items() if k not in ('CUDA_HOME', 'CUDA_PATH', 'TORCH_CUDA_ARCH_LIST')}
    # no /usr/local/bin: this machine's real nvcc lives there
    env.update(PATH=f'{bin_dir}:/usr/bin:/bin', MAE_MM_VENV=str(venv), MAE_MM_CACHE=str(tmp_path / 'cache'),
               MAE_MM_PYTHON=sys.executable, **env_vars)
    proc = subprocess.run(['bash', 'tools/install.sh', '--print-plan', *flags], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    printed = dict(line.split('=', 1) for line in proc.stdout.splitlines() if '=' in line)
    return proc.returncode, printed, proc.stderr


def wheels(tmp_path, key):
    py = f'py{sys.version_info[0]}{sys.version_info[1]}'
    return str(tmp_path / 'cache' / 'wheels' / f'{py}-torch2.14.1{key}')


def test_a_toolkit_and_a_cuda_torch_without_a_gpu_keep_the_cpu_build_and_its_cache_key(tmp_path):
    code, printed, err = plan(tmp_path, CPU_MACHINE)
    assert code == 0, err
    assert printed['flavor'] == 'cpu' and printed['force_cuda'] == '0'
    assert 'no GPU' in printed['reason']
    assert printed['wheel_cache'] == wheels(tmp_path, '')  # the key CPU wheels had before CUDA builds existed


def test_a_visible_gpu_builds_cuda_ops_for_its_arch(tmp_path):
    code, printed, err = plan(tmp_path, H100, TORCH_CUDA_ARCH_LIST='8.0')  # the GPUs win over the environment
    assert code == 0, err
    assert printed['flavor'] == 'cuda' and printed['force_cuda'] == '1'
    assert printed['arch_list'] == '9.0' and printed['arch_source'] == 'visible GPUs'
    assert printed['nvcc'] == f'{tmp_path}/bin/nvcc (CUDA 13.0, CUDA_HOME=/opt/cuda-fake)'
    assert printed['wheel_cache'] == wheels(tmp_path, '-cu130-sm90')


def test_gpus_of_two_kinds_give_both_archs(tmp_path):
    code, printed, err = plan(tmp_path, dict(H100, GPU_ARCHS='8.6;9.0'))
    assert code == 0, err
    assert printed['arch_list'] == '8.6;9.0' and printed['wheel_cache'] == wheels(tmp_path, '-cu130-sm86-90')


@pytest.mark.parametrize('env_vars,arch_list,source,key', [
    (dict(TORCH_CUDA_ARCH_LIST='9.0'), '9.0', 'TORCH_CUDA_ARCH_LIST', '-cu130-sm90'),  # the cross-compile recipe
    ({}, '7.5;8.0;8.6;8.9;9.0+PTX', 'default list', '-cu130-sm75-80-86-89-90ptx'),
], ids=['arch-from-env', 'default-archs'])
def test_cuda_flag_without_a_gpu(tmp_path, env_vars, arch_list, source, key):
    code, printed, err = plan(tmp_path, CPU_MACHINE, '--cuda', **env_vars)
    assert code == 0, err
    assert printed['flavor'] == 'cuda' and printed['reason'] == '--cuda given'
    assert printed['arch_list'] == arch_list and printed['arch_source'] == source
    assert printed['wheel_cache'] == wheels(tmp_path, key)


def test_cpu_flag_on_a_gpu_machine(tmp_path):
    code, printed, err = plan(tmp_path, H100, '--cpu')
    assert code == 0, err
    assert printed['flavor'] == 'cpu' and printed['reason'] == '--cpu given'
    assert printed['wheel_cache'] == wheels(tmp_path, '')


def test_a_gpu_without_a_toolkit_names_the_fix(tmp_path):
    code, printed, err = plan(tmp_path, H100, nvcc_release=None, CUDA_HOME=str(tmp_path / 'no_cuda'))
    assert code == 1 and 'wheel_cache' not in printed
    assert 'no CUDA toolkit found to build mmcv\'s CUDA ops (torch sees a GPU' in err
    assert f'{tmp_path}/no_cuda/bin/nvcc' in err
    assert 'pip install "nvidia-cuda-nvcc==13.*"' in err and 'torch here is built with CUDA 13.0' in err


def test_a_cached_cuda_wheel_needs_no_toolkit(tmp_path):
    """A GPU node without nvcc uses the wheel built elsewhere (the cache key holds torch's CUDA, not nvcc's)."""
    wheel = osp.join(wheels(tmp_path, '-cu130-sm90'), 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl')
    os.makedirs(osp.dirname(wheel))
    open(wheel, 'w').close()
    code, printed, err = plan(tmp_path, H100, nvcc_release=None, CUDA_HOME=str(tmp_path / 'no_cuda'))
    assert code == 0, err
    assert printed['flavor'] == 'cuda' and printed['mmcv_wheel'] == f'cached: {wheel}' and 'nvcc' not in printed


def test_an_nvcc_of_another_cuda_major_than_torch_is_refused(tmp_path):
    code, _, err = plan(tmp_path, H100, nvcc_release='12.4')
    assert code == 1
    assert 'is CUDA 12.4 but torch 2.14.1 is built with CUDA 13.0' in err
    assert 'nvidia-cuda-nvcc==13.*' in err


def test_cuda_ops_need_a_cuda_torch(tmp_path):
    code, _, err = plan(tmp_path, dict(CPU_MACHINE, TORCH_CUDA=''), '--cuda')
    assert code == 1 and 'torch 2.14.1 in' in err and 'has none (torch.version.cuda is None)' in err


@pytest.mark.parametrize('flags,message', [
    (('--cuda', '--cpu'), '--cuda and --cpu contradict each other'),
    (('--gpu',), "unknown argument '--gpu'"),
])
def test_bad_arguments(tmp_path, flags, message):
    code, _, err = plan(tmp_path, CPU_MACHINE, *flags)
    assert code == 2 and message in err


def test_plan_without_a_venv_changes_nothing(tmp_path):
    env = dict(os.environ, MAE_MM_VENV=str(tmp_path / 'none'), MAE_MM_CACHE=str(tmp_path / 'cache'))
    proc = subprocess.run(['bash', 'tools/install.sh', '--print-plan'], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and f'{tmp_path}/none/bin/python does not exist' in proc.stderr
    assert not osp.exists(tmp_path / 'none')


def test_the_plan_for_this_venv():
    """This machine as it is: the venv running the tests, its torch, the nvcc on PATH if any."""
    env = dict(os.environ, MAE_MM_VENV=osp.dirname(osp.dirname(sys.executable)), MAE_MM_PYTHON=sys.executable)
    proc = subprocess.run(['bash', 'tools/install.sh', '--print-plan'], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    printed = dict(line.split('=', 1) for line in proc.stdout.splitlines())
    assert printed['flavor'] == ('cuda' if torch.cuda.is_available() else 'cpu')
    assert printed['torch'].startswith(torch.__version__.split('+')[0])
