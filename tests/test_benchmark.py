"""tools/benchmark.py runs on the demo configs on CPU and reports img/s and memory."""
import math
import re

import pytest

from conftest import DEMO_PRETRAIN, ROOT, run_tool

pytestmark = pytest.mark.slow  # every test here runs the tools

RATE = r'{}: [0-9.]+ img/s \(median of 2 x 2 steps, batch 4, amp none, compile False, data {}\), [0-9.]+ GiB'


def test_pretrain_step_against_mmpretrain():
    out = run_tool('tools/benchmark.py', DEMO_PRETRAIN, '--batch', '4', '--steps', '2', '--windows', '2',
                   '--warmup', '1', '--vs-mmpretrain')
    assert re.search(RATE.format('mae_mm', 'synthetic'), out), out
    assert re.search(RATE.format('mmpretrain', 'synthetic'), out), out
    assert re.search(r'ratio mae_mm / mmpretrain: [0-9.]+', out)


def test_finetune_step_with_the_jpeg_pipeline_against_mmpretrain(demo_data):
    out = run_tool('tools/benchmark.py', 'configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', '--batch', '4',
                   '--steps', '2', '--windows', '2', '--warmup', '1', '--data', 'jpeg', '--workers', '1',
                   '--vs-mmpretrain')
    assert re.search(RATE.format('mae_mm', 'jpeg'), out), out
    assert re.search(RATE.format('mmpretrain', 'jpeg'), out), out
    assert re.search(r'ratio mae_mm / mmpretrain: [0-9.]+', out)


def test_pretrain_step_with_gpu_decode_on_cpu(tmp_path):
    """The GPU-decode config end to end through a DataLoader (decoding on the CPU here)."""
    cfg = tmp_path / 'gpudecode_demo.py'
    cfg.write_text(f"_base_ = '{ROOT}/configs/pretrain/mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py'\n"
                   "model = dict(encoder=dict(arch='tiny', img_size=64, patch_size=8),\n"
                   "             decoder=dict(embed_dim=128, depth=2, num_heads=4))\n"
                   "train_pipeline = [dict(type='LoadJpegBytes'), dict(type='RandomResizedCropParams', scale=64),\n"
                   "                  dict(type='RandomFlipParams'), dict(type='PackJpegBytes')]\n"
                   "train_dataloader = dict(dataset=dict(pipeline=train_pipeline))\n")
    out = run_tool('tools/benchmark.py', str(cfg), '--batch', '4', '--steps', '2', '--windows', '2', '--warmup', '1',
                   '--data', 'jpeg', '--workers', '1')
    assert re.search(RATE.format('mae_mm', 'jpeg'), out), out


def test_data_benchmark_counts_workers(tmp_path):
    out = run_tool('tools/benchmark_data.py', 'configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py',
                   '--gpu-decode-config', 'configs/pretrain/mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py',
                   '--images', '4', '--batch', '4', '--seconds', '0.1', '--step-rate', '1000',
                   '--folder', str(tmp_path))
    assert re.search(r'4 JPEGs of 500x375, mean 1[0-2][0-9] KB', out), out  # ImageNet's typical file size
    per_worker = float(re.search(r'cpu pipeline \(decode \+ RandomResizedCrop \+ flip\): ([0-9.]+) img/s', out)[1])
    assert re.search(r'gpu decode, worker part .*: [0-9.]+ img/s per worker', out), out
    assert re.search(r'gpu decode, preprocessor part on cpu .*: [0-9.]+ img/s', out), out
    workers = int(re.search(r'cpu pipeline: ([0-9]+) workers feed 1000 img/s', out)[1])
    assert workers == math.ceil(1000 / per_worker)


def test_lever_benchmark_prints_every_lever():
    out = run_tool('tools/benchmark_levers.py', '--arch', 'tiny', '--batch', '2', '--repeats', '1', '--device', 'cpu')
    for lever in ('masking', 'attention', r'AdamW step \(loop', r'AdamW step \(foreach', 'checkpointing: fwd',
                  'checkpointing: saved activations'):
        assert re.search(rf'\| {lever}.* \| [0-9.]+ (ms|MiB) \| [0-9.]+ (ms|MiB) \| [0-9.]+x \|', out), (lever, out)
