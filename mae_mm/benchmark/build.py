"""Times building a detection backbone against a plain ViT of the same size: seconds and peak memory.

Builds ``model.backbone`` of a COCO config (its ``init_cfg`` left out: no checkpoint is read) and a
:class:`~mae_mm.models.vit.PlainViT` of the same arch, patch size and position grid, on each device,
in fresh processes, so that a process's peak resident memory is its builds' own. On ``meta`` the
parameters take no memory, so the time is that of constructing the modules and the peak that of the
Python objects; on ``cpu`` every parameter is allocated and initialised.
"""
import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Dict, Iterator, Tuple

from . import ROOT

COCO_H = osp.join(ROOT, 'configs', 'coco', 'mask-rcnn_vit-huge-p14_16xb4-amp-lsj-75e_coco.py')


def model_configs(config: str, arch=None) -> Dict[str, dict]:
    """{'detection backbone': its config, 'plain ViT': the PlainViT of the same size}; ``arch``
    replaces the config's (with one global block)."""
    from mmengine.config import Config
    backbone = Config.fromfile(config).model.backbone.to_dict()
    backbone.pop('init_cfg', None)
    if arch is not None:
        backbone.update(arch=arch, global_blocks=(1,))
    plain = {'type': 'mae_mm.PlainViT', 'arch': backbone['arch'], 'patch_size': backbone.get('patch_size'),
             'pos_embed_img_size': backbone.get('pretrain_img_size', 224)}
    return {'detection backbone': backbone, 'plain ViT': plain}


def rss_bytes() -> int:
    """This process's resident memory now (Linux)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def build_once(cfg: dict, device: str, builds: int = 1) -> dict:
    """Builds ``cfg`` on ``device`` ``builds`` times in this process, one model alive at a time:
    {'seconds' (the fastest build), 'peak_bytes' (the first build's peak RSS above the RSS before),
    'python_peak_bytes', 'params'}."""
    import torch

    import mae_mm.models.det  # noqa: F401  (registers the detection backbone)
    from mae_mm.registry import build_model
    before, times, peak = rss_bytes(), [], None
    for _ in range(builds):
        model = None  # the previous one freed first
        start = time.perf_counter()
        with torch.device(device):
            model = build_model(cfg)
        times.append(time.perf_counter() - start)
        if peak is None:  # the first build's: later ones reuse (and fragment) what the allocator kept
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    params = sum(p.numel() for p in model.parameters())
    model = None
    tracemalloc.start()  # one more build, untimed: the peak of the Python objects (not tensor storage)
    with torch.device(device):
        model = build_model(cfg)
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dict(seconds=min(times), peak_bytes=max(peak, 0), python_peak_bytes=python_peak, params=params)


def build_in_fresh_process(cfg: dict, device: str, builds: int) -> dict:
    """:func:`build_once` in a new interpreter, so the peak RSS is this process's builds' alone."""
    code = ('import json, sys; from mae_mm.benchmark.build import build_once; '
            'print(json.dumps(build_once(json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]))))')
    # from ROOT (first on the child's path): the child imports the same mae_mm as this process
    out = subprocess.run([sys.executable, '-c', code, json.dumps(cfg), device, str(builds)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_builds(configs: Dict[str, dict], device: str, repeats: int = 3,
                   smoke: bool = False) -> Iterator[Tuple[str, dict]]:
    """(model name, figures) of each of ``configs`` on ``device``, as they are measured: the median of
    ``repeats`` fresh processes (on ``meta``, where a build takes milliseconds, each process's fastest
    of 10 builds); with ``smoke`` one build in this process."""
    builds = 10 if device == 'meta' else 1
    for name, cfg in configs.items():
        runs = [build_once(cfg, device) if smoke else build_in_fresh_process(cfg, device, builds)
                for _ in range(1 if smoke else repeats)]
        yield name, {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def ratios(det: dict, plain: dict) -> Dict[str, float]:
    """The detection backbone's figures over the plain ViT's: time, peak RSS, peak Python heap."""
    return dict(seconds=det['seconds'] / plain['seconds'],
                peak_bytes=det['peak_bytes'] / max(plain['peak_bytes'], 1),
                python_peak_bytes=det['python_peak_bytes'] / plain['python_peak_bytes'])


def versions() -> str:
    """Python, torch, mmengine, the machine and its CPUs."""
    import mmengine
    import torch
    return (f'python {platform.python_version()}, torch {torch.__version__}, mmengine {mmengine.__version__}, '
            f'{platform.machine()} with {len(os.sched_getaffinity(0))} CPUs')
