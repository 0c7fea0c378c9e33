"""Helpers of the reliability tests: small configs derived from the demo ones, and runs of the tools."""
import os
import os.path as osp
import socket
import subprocess
import sys

from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
HELPERS = osp.join(ROOT, 'tests', 'helpers')
DEMO_PRETRAIN = osp.join(ROOT, 'configs', 'demo', 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py')


def free_port() -> int:
    """A TCP port free on this host now (for a test's process group or rendezvous)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def short_schedule(epochs: int) -> str:
    """Config text: the demo pretraining's schedule for a run of ``epochs`` epochs. tools/train.py
    refuses the demo's own (4 warmup epochs) on a run of 4 epochs or fewer; this one warms up for
    one epoch, then, from the second on, decays along the demo's cosine to the run's end."""
    warmup = ("dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1, "
              "convert_to_iter_based=True)")
    cosine = "dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=1, convert_to_iter_based=True)"
    return f'param_scheduler = [{warmup}{", " + cosine if epochs > 1 else ""}]\n'


def derived_config(tmp_path, name: str, body: str, base: str = DEMO_PRETRAIN, extra_hooks=()) -> str:
    """Writes ``tmp_path/name.py`` inheriting ``base`` plus ``body``: the base's ``custom_imports``
    plus the fault-injection helpers, and the base's custom hooks plus ``extra_hooks`` (mmengine
    replaces lists whole, so the base's are restated)."""
    cfg = Config.fromfile(base)
    imports = list(cfg.get('custom_imports', {}).get('imports', [])) + ['mae_mm_faults']
    hooks = list(cfg.get('custom_hooks', [])) + list(extra_hooks)
    text = (f'_base_ = {base!r}\n'
            f'custom_imports = dict(imports={imports!r}, allow_failed_imports=False)\n'
            f'custom_hooks = {[dict(h) for h in hooks]!r}\n' + body)
    path = osp.join(str(tmp_path), f'{name}.py')
    with open(path, 'w') as f:
        f.write(text)
    return path


def run(*args, timeout=900, check=True, threads=None, env=None):
    """Runs ``python *args`` (or a launcher script when args[0] ends in .sh) from the repository
    root with the fault-injection helpers importable; returns the CompletedProcess."""
    env = {**os.environ, 'PYTHONPATH': f'{ROOT}{os.pathsep}{HELPERS}', 'PYTHONUNBUFFERED': '1',
           'PYTHON': sys.executable, **(env or {})}
    if threads is not None:
        env['OMP_NUM_THREADS'] = str(threads)
    cmd = ['bash', *args] if args[0].endswith('.sh') else [sys.executable, *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{" ".join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n'
                             f'{proc.stderr[-4000:]}')
    return proc


def status_without(names, work, blocked):
    """``tools/transfer.py --status WORK`` in a process where the packages ``names`` raise
    ImportError (first on its PYTHONPATH, a folder ``blocked`` of packages that do)."""
    for name in names:
        os.makedirs(blocked / name, exist_ok=True)
        (blocked / name / '__init__.py').write_text(f"raise ImportError('{name} is blocked in this test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocked), ROOT]), PYTHONUNBUFFERED='1')
    return subprocess.run([sys.executable, 'tools/transfer.py', '--status', str(work)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
