"""One script for one GPU: does the whole stack work there, and how fast is it.

    python tools/gpu_check.py [--budget SECONDS] [--out DIR] [--rows 1,3,...] [--smoke]

Rows, in their order of importance; each has its own time cap, and the total is ``--budget``:

1. ``cuda_ops``: mmcv's RoIAlign (forward, backward, fp16) and NMS on the device's tensors,
   against torchvision's on the same tensors;
2. ``demo_tasks``: a few iterations of each demo task (pretrain, fine-tune, linear probe, COCO,
   ADE20K) through tools/train.py under mixed precision (bf16; fp16 for Mask R-CNN, whose RoIAlign
   has no bf16 kernel): every logged loss finite, and the loss moves;
3. ``mae_vit-b``: MAE ViT-B/16, batch 512, compiled, against mmpretrain compiled (tools/benchmark.py
   ``--vs-mmpretrain``, both in one process, windows alternating);
4. ``mae_vit-l``: the same for ViT-L/16 at batch 256;
5. ``finetune_vit-b``: ViT-B fine-tuning, batch 256, compiled, fused AdamW, against mmpretrain's ViT;
6. ``mask-rcnn_vit-b``: Mask R-CNN ViT-B at 1024 x 1024, fp16, batch 4;
7. ``upernet_vit-b``: UperNet ViT-B at 512 x 512, bf16, batch 4, against mmseg's MAE UperNet;
8. ``jpeg_pipeline``: the ViT-B pretraining step fed by the JPEG pipeline with CPU decode (one
   worker per core) and with GPU decode, each against the synthetic rate of row 3;
9. ``eager``: rows 3-5 without torch.compile, if time is left.

After every row it rewrites ``DIR/gpu_check.json`` and ``DIR/gpu_check.md`` (device, versions,
date, one line per row), so a run cut off at any point still leaves what it measured. A row
that did not finish (cut at its cap, the budget spent, its process died, not chosen by
``--rows``) is reported as not finished with the reason, never dropped. The rows run in a worker
process (output in ``DIR/gpu_check.log``), which is killed at a row's cap and replaced after a
row that failed, so one row's crash or a poisoned CUDA context does not take the next rows along.

``--smoke`` runs the same rows through the same code on the CPU at toy sizes (the demo configs,
or the real ones shrunk to the demo ViT; batch 2, one timed step, no compile, fp32): what the
tests run. Exit status 1 when a row failed or raised or no GPU is visible (without --smoke), else 0.
The code: mae_mm/benchmark/gpu_check/ (rows, worker, parent, report).
"""
import argparse
import os.path as osp
import sys

from mae_mm.benchmark import ROOT
from mae_mm.benchmark.gpu_check.parent import run
from mae_mm.benchmark.gpu_check.rows import chosen_rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--budget', type=float, default=300.0,
                        help='total seconds for all rows (default 300); a row gets its cap or what is left')
    parser.add_argument('--out', default=osp.join(ROOT, 'work_dirs', 'gpu_check'), help='where the report goes')
    parser.add_argument('--rows', help='comma-separated row numbers or names to run (default: all); the others are '
                                       'reported as not run')
    parser.add_argument('--smoke', action='store_true', help='the same rows at toy sizes on the CPU (for the tests)')
    parser.add_argument('--device', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out = osp.abspath(args.out)
    if args.device is None:
        args.device = 'cpu' if args.smoke else 'cuda'
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    return run(chosen_rows(args.rows), args.budget, args.out, args.smoke, args.device)


if __name__ == '__main__':
    sys.exit(main())
