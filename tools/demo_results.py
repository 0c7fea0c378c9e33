"""Collects the demo chain's metrics into one table and ``results.json``.

    python tools/demo_results.py [WORK_DIR]    (default work_dirs/demo)

Reads ``<stage>_metrics.json`` that ``tools/test.py --out`` wrote for each stage, prints a
table in the layout of the paper's tables, and writes ``WORK_DIR/results.json`` as
``{"pretrain": {"loss"}, "finetune": {"top1"}, "linprobe": {"top1"},
"coco": {"bbox_mAP", "segm_mAP"}, "ade20k": {"mIoU"}}`` with the values as the metrics report
them (mmpretrain and mmseg in percent, mmdet's COCO AP as a fraction).
"""
import json
import os.path as osp
import sys

# stage -> [(results.json key, metric key written by tools/test.py, table label)]
STAGES = {
    'pretrain': [('loss', 'recon/mse', 'pretrain loss (val, masked)')],
    'finetune': [('top1', 'accuracy/top1', 'fine-tune top-1 (%)')],
    'linprobe': [('top1', 'accuracy/top1', 'linear-probe top-1 (%)')],
    'coco': [('bbox_mAP', 'coco/bbox_mAP', 'COCO box AP (%)'), ('segm_mAP', 'coco/segm_mAP', 'COCO mask AP (%)')],
    'ade20k': [('mIoU', 'mIoU', 'ADE20K mIoU (%)')],
}
# the table shows every score in percent; mmdet reports COCO AP as a fraction
TABLE_SCALE = {'coco': 100.0}
# The MAE paper's ViT-B/16 figures (He et al., CVPR 2022, Tables 3-5; linear probe Sec. 4): cited,
# for orientation only. The demo is a 6-block ViT on 500 synthetic 64 px images: not comparable.
PAPER_VIT_B = {'pretrain': {'loss': None}, 'finetune': {'top1': 83.6}, 'linprobe': {'top1': 68.0},
               'coco': {'bbox_mAP': 50.3, 'segm_mAP': 44.9}, 'ade20k': {'mIoU': 48.1}}


def collect(work_dir: str) -> dict:
    results, missing = {}, []
    for stage, fields in STAGES.items():
        path = osp.join(work_dir, f'{stage}_metrics.json')
        if not osp.isfile(path):
            missing.append(path)
            continue
        with open(path) as f:
            metrics = json.load(f)
        absent = [metric for _, metric, _ in fields if metric not in metrics]
        if absent:
            raise KeyError(f'{path} lacks {absent}; it has {sorted(metrics)}')
        results[stage] = {key: metrics[metric] for key, metric, _ in fields}
    if missing:
        raise FileNotFoundError('missing stage metrics (run the stage through tools/test.py --out): '
                                + ', '.join(missing))
    return results


def table(results: dict) -> str:
    rows = ['| metric | this demo (tiny ViT, CPU) | MAE paper, ViT-B/16 (cited, not comparable) |',
            '| --- | --- | --- |']
    for stage, fields in STAGES.items():
        for key, _, label in fields:
            paper = PAPER_VIT_B[stage][key]
            value = results[stage][key] * TABLE_SCALE.get(stage, 1.0)
            rows.append(f'| {label} | {value:.4g} | {"-" if paper is None else paper} |')
    return '\n'.join(rows)


def main():
    work_dir = sys.argv[1] if len(sys.argv) > 1 else 'work_dirs/demo'
    results = collect(work_dir)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(table(results))
    print(f'\nwritten to {osp.join(work_dir, "results.json")}')


if __name__ == '__main__':
    main()
