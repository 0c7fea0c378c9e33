"""tools/demo_results.py: the chain's results.json layout, the table, and a clear error for a missing stage."""
import json

import pytest

from conftest import run_tool

METRICS = {'pretrain': {'recon/mse': 0.5}, 'finetune': {'accuracy/top1': 62.0, 'accuracy/top2': 90.0},
           'linprobe': {'accuracy/top1': 57.0}, 'coco': {'coco/bbox_mAP': 0.125, 'coco/segm_mAP': 0.25},
           'ade20k': {'mIoU': 89.0, 'aAcc': 96.0}}


def write_stages(folder, stages):
    for stage in stages:
        (folder / f'{stage}_metrics.json').write_text(json.dumps(METRICS[stage]))


def test_results_json_and_table(tmp_path):
    write_stages(tmp_path, METRICS)
    out = run_tool('tools/demo_results.py', str(tmp_path))
    assert json.loads((tmp_path / 'results.json').read_text()) == {
        'pretrain': {'loss': 0.5}, 'finetune': {'top1': 62.0}, 'linprobe': {'top1': 57.0},
        'coco': {'bbox_mAP': 0.125, 'segm_mAP': 0.25}, 'ade20k': {'mIoU': 89.0}}
    assert '| COCO box AP (%) | 12.5 | 50.3 |' in out  # mmdet's fraction shown in percent
    assert '| fine-tune top-1 (%) | 62 | 83.6 |' in out
    assert 'cited, not comparable' in out


def test_a_missing_stage_is_named(tmp_path):
    write_stages(tmp_path, [s for s in METRICS if s != 'coco'])
    with pytest.raises(AssertionError, match='coco_metrics.json'):
        run_tool('tools/demo_results.py', str(tmp_path))
