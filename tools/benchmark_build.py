"""Times building the COCO ViT-H detection backbone against a plain ViT-H: seconds and peak memory.

    python tools/benchmark_build.py [--config CONFIG] [--repeats N] [--devices meta cpu] [--smoke]

Builds ``model.backbone`` of the config (the COCO ViT-H one by default, its ``init_cfg`` left out:
no checkpoint is read) and a :class:`~mae_mm.models.vit.PlainViT` of the same arch, patch size and
position grid, on each device, in ``--repeats`` fresh processes each, so that a process's peak
resident memory is its builds' own: the figures are the median over the processes of the build
time (on ``meta``, where a build takes milliseconds, the fastest of 10 builds in the process) and
of the first build's peak RSS above what the process held after its imports, and (``tracemalloc``,
one more build) the peak of the Python objects, the memory figure that matters on ``meta``. On
``meta`` the parameters take no memory, so the time is that of constructing the modules and the
peak that of the Python objects; on ``cpu`` every parameter is allocated and initialised.
``--smoke`` builds the tiny arch once per device in this process (what the test runs). The code:
mae_mm/benchmark/build.py.
"""
import argparse
import os.path as osp

from mae_mm.benchmark import ROOT
from mae_mm.benchmark.build import COCO_H, measure_builds, model_configs, ratios, versions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=COCO_H)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--devices', nargs='+', default=['meta', 'cpu'])
    parser.add_argument('--smoke', action='store_true', help='the tiny arch, once per device, in this process')
    args = parser.parse_args()
    configs = model_configs(args.config, arch='tiny' if args.smoke else None)
    print(f'{osp.relpath(args.config, ROOT)}: {configs["detection backbone"]["arch"]}; {versions()}')
    runs = 1 if args.smoke else args.repeats
    for device in args.devices:
        results = {}
        for name, result in measure_builds(configs, device, args.repeats, args.smoke):
            results[name] = result
            print(f'{device:>4} {name:<18} {result["seconds"]:8.3f} s  {result["peak_bytes"] / 2 ** 20:8.1f} MiB peak '
                  f'RSS  {result["python_peak_bytes"] / 2 ** 20:6.2f} MiB peak Python heap  '
                  f'{result["params"] / 1e6:6.1f} M parameters  (median of {runs})')
        det_over_plain = ratios(results['detection backbone'], results['plain ViT'])
        print(f'{device:>4} detection / plain: time x{det_over_plain["seconds"]:.2f}, peak RSS '
              f'x{det_over_plain["peak_bytes"]:.2f}, peak Python heap x{det_over_plain["python_peak_bytes"]:.2f}')


if __name__ == '__main__':
    main()
