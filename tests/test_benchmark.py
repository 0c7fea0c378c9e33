"""tools/benchmark.py runs on the demo configs on CPU and reports img/s and memory."""
import re

from conftest import DEMO_PRETRAIN, run_tool

RATE = r'{}: [0-9.]+ img/s \(median of 2 x 2 steps, batch 4, amp none, compile False, data {}\), [0-9.]+ GiB'


def test_pretrain_step_against_mmpretrain():
    out = run_tool('tools/benchmark.py', DEMO_PRETRAIN, '--batch', '4', '--steps', '2', '--windows', '2',
                   '--warmup', '1', '--vs-mmpretrain')
    assert re.search(RATE.format('mae_mm', 'synthetic'), out), out
    assert re.search(RATE.format('mmpretrain', 'synthetic'), out), out
    assert re.search(r'ratio mae_mm / mmpretrain: [0-9.]+', out)


def test_finetune_step_with_the_jpeg_pipeline(demo_data):
    out = run_tool('tools/benchmark.py', 'configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', '--batch', '4',
                   '--steps', '2', '--windows', '2', '--warmup', '1', '--data', 'jpeg', '--workers', '1')
    assert re.search(RATE.format('mae_mm', 'jpeg'), out), out
