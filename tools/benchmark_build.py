"""Times building the COCO ViT-H detection backbone against a plain ViT-H: seconds and peak memory.

    python tools/benchmark_build.py [--config CONFIG] [--repeats N] [--devices meta cpu] [--smoke]

Builds ``model.backbone`` of the config (the COCO ViT-H one by default, its ``init_cfg`` left out:
no checkpoint is read) and a :class:`~mae_mm.models.vit.PlainViT` of the same arch, patch size and
position grid, on each device, in ``--repeats`` fresh processes each, so that a process's peak
resident memory is its builds' own: the figures are the median over the processes of the build
time (on ``meta``, where a build takes milliseconds, the fastest of 10 builds in the process) and
of the first build's peak RSS above what the process held after its imports, and (``tracemalloc``, one more
build) the peak of the Python objects, the memory figure that matters on ``meta``. On ``meta`` the parameters take no memory, so the
time is that of constructing the modules and the peak that of the Python objects; on ``cpu`` every
parameter is allocated and initialised. ``--smoke`` builds the tiny arch once per device in this
process (what the test runs).
"""
import argparse
import json
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO_H = osp.join(ROOT, 'configs', 'coco', 'mask-rcnn_vit-huge-p14_16xb4-amp-lsj-75e_coco.py')


def model_configs(config: str, arch=None) -> dict:
    """{'detection backbone': its config, 'plain ViT': the PlainViT of the same size}."""
    from mmengine.config import Config
    backbone = Config.fromfile(config).model.backbone.to_dict()
    backbone.pop('init_cfg', None)
    if arch is not None:
        backbone.update(arch=arch, global_blocks=(1,))
    import inspect

    from mae_mm.models.vit import PlainViT
    grid_key = 'pretrain_img_size' if 'pretrain_img_size' in inspect.signature(PlainViT).parameters \
        else 'img_size'  # the code before issue 12, for a before/after comparison
    plain = {'type': 'mae_mm.PlainViT', 'arch': backbone['arch'], 'patch_size': backbone.get('patch_size'),
             grid_key: backbone.get('pretrain_img_size', 224)}
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
    code = 'import json, sys, benchmark_build as b; print(json.dumps(b.build_once(json.loads(sys.argv[1]), ' \
        'sys.argv[2], int(sys.argv[3]))))'
    # run from tools/ (first on the child's path), so that mae_mm comes from the environment's path
    out = subprocess.run([sys.executable, '-c', code, json.dumps(cfg), device, str(builds)], check=True,
                         capture_output=True, text=True, cwd=osp.dirname(osp.abspath(__file__))).stdout
    return json.loads(out.strip().splitlines()[-1])


def versions() -> str:
    import mmengine
    import torch
    return (f'python {platform.python_version()}, torch {torch.__version__}, mmengine {mmengine.__version__}, '
            f'{platform.machine()} with {len(__import__("os").sched_getaffinity(0))} CPUs')


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=COCO_H)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--devices', nargs='+', default=['meta', 'cpu'])
    parser.add_argument('--smoke', action='store_true', help='the tiny arch, once per device, in this process')
    args = parser.parse_args(argv)
    configs = model_configs(args.config, arch='tiny' if args.smoke else None)
    print(f'{osp.relpath(args.config, ROOT)}: {configs["detection backbone"]["arch"]}; {versions()}')
    results = {}
    for device in args.devices:
        for name, cfg in configs.items():
            # a meta build takes milliseconds: the fastest of 10 in each process, against the noise
            builds = 10 if device == 'meta' else 1
            runs = [build_once(cfg, device) if args.smoke else build_in_fresh_process(cfg, device, builds)
                    for _ in range(1 if args.smoke else args.repeats)]
            result = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            results[device, name] = result
            print(f'{device:>4} {name:<18} {result["seconds"]:8.3f} s  {result["peak_bytes"] / 2 ** 20:8.1f} MiB peak RSS  '
                  f'{result["python_peak_bytes"] / 2 ** 20:6.2f} MiB peak Python heap  '
                  f'{result["params"] / 1e6:6.1f} M parameters  (median of {len(runs)})')
        det, plain = results[device, 'detection backbone'], results[device, 'plain ViT']
        print(f'{device:>4} detection / plain: time x{det["seconds"] / plain["seconds"]:.2f}, peak RSS '
              f'x{det["peak_bytes"] / max(plain["peak_bytes"], 1):.2f}, peak Python heap '
              f'x{det["python_peak_bytes"] / plain["python_peak_bytes"]:.2f}')
    return results


if __name__ == '__main__':
    main()
