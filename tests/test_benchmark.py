"""The benchmark library (mae_mm.benchmark) and the tools/benchmark*.py that print its figures, on CPU."""
import math
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope, init_default_scope

from conftest import DEMO_PRETRAIN, ROOT, run_tool

from mae_mm.benchmark.batches import image_size, synthetic_batches
from mae_mm.benchmark.build import COCO_H, measure_builds, model_configs, ratios
from mae_mm.benchmark.decode_fraction import time_decode_fractions
from mae_mm.benchmark.step import Refused, StepOptions

DEMO_ADE20K = 'configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py'
DEMO_COCO = 'configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py'

RATE = r'{}: [0-9.]+ img/s \(median of 2 x 2 steps, batch 4, amp none, compile False, data {}\), [0-9.]+ GiB'


@pytest.mark.parametrize('config,size', [
    (DEMO_PRETRAIN, (64, 64)),  # model.encoder.pretrain_img_size
    ('configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', (64, 64)),  # model.backbone.img_size
    (DEMO_COCO, (128, 128)),  # the ViTDet backbone's img_size, not its pretrain_img_size (64: the position grid)
    ('configs/coco/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py', (1024, 1024)),
    ('configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512-ms-flip.py', (512, 512)),  # wrapped
], ids=['pretrain', 'finetune', 'demo-coco', 'coco', 'ade20k-tta'])
def test_the_benchmark_reads_each_models_input_size_from_its_own_key(config, size):
    assert image_size(Config.fromfile(osp.join(ROOT, config))) == size


def test_a_config_without_the_size_key_is_refused_naming_it():
    cfg = Config.fromfile(osp.join(ROOT, DEMO_PRETRAIN))
    del cfg.model.encoder['pretrain_img_size']  # no silent 224
    with pytest.raises(KeyError, match='model.encoder.pretrain_img_size is not set'):
        image_size(cfg)


@pytest.mark.parametrize('config,expected', [
    (DEMO_ADE20K, {'decode.loss_ce', 'aux.loss_ce'}),
    (DEMO_COCO, {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'}),
], ids=['upernet', 'mask-rcnn'])
def test_synthetic_transfer_batches_train_every_head(config, expected):
    """The benchmark's made-up segmentation and detection batches reach every loss of the model."""
    from mae_mm.registry import MODELS
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.backbone.init_cfg = None
    init_default_scope(cfg.default_scope)
    try:
        torch.manual_seed(0)
        model = revert_sync_batchnorm(MODELS.build(cfg.model)).train()
        batch = next(synthetic_batches(cfg, 2, 'cpu'))
        h, w = image_size(cfg)
        assert len(batch['inputs']) == 2 and batch['inputs'][0].shape == (3, h, w)
        assert batch['inputs'][0].dtype == torch.uint8
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
    finally:
        DefaultScope._instance_dict.clear()
    for key in expected:
        value = losses[key]
        value = sum(value) if isinstance(value, (list, tuple)) else value
        assert torch.isfinite(value) and value > 0, (key, value)
    if config == DEMO_ADE20K:
        seg = batch['data_samples'][0].gt_sem_seg.data
        assert seg.shape == (1, h, w) and 0 <= seg.min() and seg.max() < cfg.model.decode_head.num_classes
        assert (seg[:, :32, :32] == seg[0, 0, 0]).all()  # 32 x 32 blocks of one class
    else:
        gt = batch['data_samples'][0].gt_instances
        boxes = gt.bboxes
        assert boxes.shape == (8, 4) and (boxes[:, 2:] > boxes[:, :2]).all()
        assert (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()
        assert gt.masks.masks.shape == (8, h, w) and gt.masks.masks.any(axis=(1, 2)).all()


@pytest.mark.parametrize('args,message', [
    ((DEMO_PRETRAIN, '--vs-mmseg'), 'has no mmseg counterpart'),
    ((DEMO_COCO, '--vs-mmpretrain'), 'has no mmpretrain counterpart'),
    ((DEMO_ADE20K, '--data', 'jpeg'), 'needs annotations; use --data synthetic'),
    ((DEMO_PRETRAIN, '--vs-mmseg', '--vs-mmpretrain'), 'not allowed with argument'),
], ids=['pretrain-vs-mmseg', 'coco-vs-mmpretrain', 'ade20k-jpeg', 'two-references'])
def test_benchmark_refuses_what_it_cannot_time(args, message):
    proc = subprocess.run([sys.executable, 'tools/benchmark.py', *args, '--steps', '1', '--windows', '1'],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize('config,reference', [(DEMO_PRETRAIN, 'mmpretrain'), (DEMO_ADE20K, 'mmseg')],
                         ids=['pretrain-vs-mmpretrain', 'upernet-vs-mmseg'])
def test_step_against_the_reference_toolbox(config, reference):
    out = run_tool('tools/benchmark.py', config, '--batch', '4', '--steps', '2', '--windows', '2', '--warmup', '1',
                   f'--vs-{reference}')
    for label in ('mae_mm', reference):
        assert re.search(RATE.format(label, 'synthetic'), out), out
    assert re.search(rf'ratio mae_mm / {reference}: [0-9.]+', out)
    assert 'set param' not in out  # mmseg's constructor's per-parameter lines are kept out


@pytest.mark.slow
def test_mask_rcnn_step():
    out = run_tool('tools/benchmark.py', DEMO_COCO, '--batch', '4', '--steps', '2', '--windows', '2', '--warmup', '1')
    assert re.search(RATE.format('mae_mm', 'synthetic'), out), out


@pytest.mark.slow
def test_finetune_step_with_the_jpeg_pipeline_against_mmpretrain(demo_data):
    out = run_tool('tools/benchmark.py', 'configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', '--batch', '4',
                   '--steps', '2', '--windows', '2', '--warmup', '1', '--data', 'jpeg', '--workers', '1',
                   '--vs-mmpretrain')
    assert re.search(RATE.format('mae_mm', 'jpeg'), out), out
    assert re.search(RATE.format('mmpretrain', 'jpeg'), out), out
    assert re.search(r'ratio mae_mm / mmpretrain: [0-9.]+', out)


@pytest.mark.slow
def test_pretrain_step_with_gpu_decode_on_cpu(tmp_path):
    """The GPU-decode config end to end through a DataLoader (decoding on the CPU here)."""
    cfg = tmp_path / 'gpudecode_demo.py'
    cfg.write_text(f"_base_ = '{ROOT}/configs/pretrain/mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py'\n"
                   "model = dict(encoder=dict(arch='tiny', pretrain_img_size=64, patch_size=8),\n"
                   "             decoder=dict(embed_dim=128, depth=2, num_heads=4))\n"
                   "train_pipeline = [dict(type='LoadJpegBytes'), dict(type='RandomResizedCropParams', scale=64),\n"
                   "                  dict(type='RandomFlipParams'), dict(type='PackJpegBytes')]\n"
                   "train_dataloader = dict(dataset=dict(pipeline=train_pipeline))\n")
    out = run_tool('tools/benchmark.py', str(cfg), '--batch', '4', '--steps', '2', '--windows', '2', '--warmup', '1',
                   '--data', 'jpeg', '--workers', '1')
    assert re.search(RATE.format('mae_mm', 'jpeg'), out), out


@pytest.mark.slow
def test_data_benchmark_compares_the_pipelines_and_counts_workers(tmp_path):
    out = run_tool('tools/benchmark_data.py', 'configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py',
                   '--gpu-decode-config', 'configs/pretrain/mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py',
                   '--images', '4', '--batch', '4', '--seconds', '0.1', '--step-rate', '1000', '--decoders',
                   '--folder', str(tmp_path / '500'), '--mix-folder', str(tmp_path / 'mix'))
    assert re.search(r'500x375: 4 JPEGs, mean 1[0-2][0-9] KB', out), out  # ImageNet's typical file size
    assert re.search(r'mix: 7 JPEGs, mean [0-9]+ KB', out), out  # 2 + 1 of 500 px, one of each larger size
    rows = {}
    for name in ('official', 'mmpretrain', 'mae_mm, full decode', "mae_mm \\(the config's pipeline\\)"):
        m = re.search(rf'  {name}.*? +([0-9]+) +([0-9.]+)x +([0-9]+) +([0-9.]+)x +([0-9]+)\n', out)
        assert m, (name, out)
        rows[name] = [float(v) for v in m.groups()]
    official = rows['official']
    assert official[1] == official[3] == 1.0
    for mix, ratio, small, small_ratio, workers in rows.values():
        assert ratio == pytest.approx(mix / official[0], abs=0.02)
        assert math.ceil(1000 / (mix + 0.5)) <= workers <= math.ceil(1000 / (mix - 0.5))  # mix is rounded
    for decoder in ('OpenCV imdecode', 'Pillow', 'PyTurboJPEG', 'simplejpeg', 'torchvision decode_jpeg'):
        assert len(re.findall(rf'  {decoder}.*( +[0-9]+| +-){{4}}\n|  {decoder}.* not installed', out)) == 2, decoder
    assert re.search(r'  OpenCV imdecode.*?( +[0-9]+){4}\n', out), out  # the chosen one offers every scale
    assert re.search(r'  Pillow bicubic, antialiased \(today\) +[0-9]+  0\.000\n', out), out
    mad = float(re.search(r'  torch uint8 bicubic, antialias, channels-last \(chosen\) +[0-9]+  ([0-9.]+)\n', out)[1])
    assert mad < 0.1, out
    assert re.search(r'gpu decode, worker part .*: [0-9.]+ img/s', out), out
    assert re.search(r'gpu decode, preprocessor part on cpu .*: [0-9.]+ img/s', out), out


@pytest.mark.slow
def test_lever_benchmark_prints_every_lever():
    out = run_tool('tools/benchmark_levers.py', '--arch', 'tiny', '--batch', '2', '--repeats', '1', '--device', 'cpu')
    for lever in ('masking', 'attention', r'AdamW step \(loop', r'AdamW step \(foreach', 'checkpointing: fwd',
                  'checkpointing: saved activations'):
        assert re.search(rf'\| {lever}.* \| [0-9.]+ (ms|MiB) \| [0-9.]+ (ms|MiB) \| [0-9.]+x \|', out), (lever, out)


def test_the_build_benchmark_builds_both_models_on_each_device_in_its_smoke_mode():
    """The build benchmark's smoke mode: the COCO ViT-H config's backbone at the tiny size and a
    plain ViT of that size, on meta and on the CPU, with the same parameter count."""
    configs = model_configs(COCO_H, arch='tiny')
    results = {(d, m): r for d in ('meta', 'cpu') for m, r in measure_builds(configs, d, smoke=True)}
    assert set(results) == {(d, m) for d in ('meta', 'cpu') for m in ('detection backbone', 'plain ViT')}
    # the same ViT but for ViTDet's tables (64-wide heads: 5 blocks in 14-token windows, 1 global over
    # the 64 x 64 grid of a 1024 input) and the plain ViT's cls token and final norm (192 wide)
    extra = 2 * (2 * 14 - 1) * 64 * 5 + 2 * (2 * 64 - 1) * 64 * 1 - 192 - 2 * 192
    assert {results[d, 'detection backbone']['params'] - results[d, 'plain ViT']['params'] for d in ('meta', 'cpu')} \
        == {extra}
    for device in ('meta', 'cpu'):
        det, plain = results[device, 'detection backbone'], results[device, 'plain ViT']
        det_over_plain = ratios(det, plain)
        assert det_over_plain['seconds'] == det['seconds'] / plain['seconds'] > 0
        assert det_over_plain['python_peak_bytes'] == det['python_peak_bytes'] / plain['python_peak_bytes'] > 0
        assert det_over_plain['peak_bytes'] >= 0


def mae_step_flops(batch, grid, patch, enc, dec, visible, decoded_masked):
    """The closed form of FlopCounterMode's count for one MAE train step (2 FLOPs per multiply-add):
    linear layers x 3 (forward, input grad, weight grad), attention x 3.5 (forward: q k^T and its
    product with v; backward: the scores recomputed and four products), the patch embedding x 2 (the
    images take no gradient). ``enc``/``dec``: (width, depth); returns (whole step, decoder)."""
    length = grid[0] * grid[1]
    pixels = patch * patch * 3

    def blocks(tokens, width, depth):  # qkv, proj, fc1, fc2 (mlp ratio 4): 12 width^2 per token; attention
        return 3 * depth * 2 * tokens * 12 * width ** 2 + 3.5 * depth * 4 * tokens ** 2 * width

    (d, enc_depth), (e, dec_depth) = enc, dec
    n = 1 + visible + decoded_masked
    encoder = 2 * 2 * length * pixels * d + blocks(1 + visible, d, enc_depth)
    decoder = 3 * 2 * ((1 + visible) * d * e + (n - 1) * e * pixels) + blocks(n, e, dec_depth)
    return batch * (encoder + decoder), batch * decoder


def test_decode_fraction_benchmark_counts_the_closed_form_flops():
    """The demo MAE (ViT-tiny/8 at 64 px: 64 patches, 16 visible; decoder 128 wide, 2 blocks) at three
    fractions: 48, 24 and 12 masked patches decoded per sample."""
    options = StepOptions(batch=2, steps=1, windows=1, warmup=0, device='cpu')
    try:
        run, figures = time_decode_fractions(osp.join(ROOT, DEMO_PRETRAIN), (1.0, 0.5, 0.25), options)
    finally:
        DefaultScope._instance_dict.clear()
    assert (run.batch, run.amp) == (2, 'none')
    assert [(f.fraction, f.decoded_masked, f.decoder_tokens) for f in figures] == \
        [(1.0, 48, 65), (0.5, 24, 41), (0.25, 12, 29)]
    for f in figures:
        assert (f.flops, f.decoder_flops) == mae_step_flops(2, (8, 8), 8, (192, 6), (128, 2), 16, f.decoded_masked)
        assert len(f.window_ms) == 1 and f.step_ms > 0


def test_decode_fraction_benchmark_refuses_what_it_cannot_time():
    try:
        with pytest.raises(Refused, match=r'each decode_fraction must lie in \(0, 1\], got \[1.0, 0.0\]'):
            time_decode_fractions(osp.join(ROOT, DEMO_PRETRAIN), (1.0, 0.0))
        with pytest.raises(Refused, match='is not a pretraining'):
            time_decode_fractions(osp.join(ROOT, 'configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py'))
        with pytest.raises(Refused, match='leave out --compile'):
            time_decode_fractions(osp.join(ROOT, DEMO_PRETRAIN), options=StepOptions(compile=True))
    finally:
        DefaultScope._instance_dict.clear()



def test_the_sharded_memory_formula_counts_the_large_presets_exactly():
    """tools/benchmark_sharded_memory.py --skip-measure: P of each preset's MAE from the model on
    the meta device, and the per-rank state 16P (DDP) and 16P/N (sharded) in GiB."""
    out = run_tool('tools/benchmark_sharded_memory.py', '--skip-measure', '--ranks', '8')
    rows = {line.split(' (')[0].strip('| '): line for line in out.splitlines() if line.startswith('| ViT-')}
    assert sorted(rows) == ['ViT-2B/14', 'ViT-6.5B/14', 'ViT-H/14', 'ViT-g/14']
    # ViT-6.5B encoder: 32 blocks of 12 d^2 + 13 d, patch kernel and bias, cls token, 257 positions, norm
    d, L = 4096, 32
    encoder = L * (12 * d * d + 13 * d) + 3 * 14 * 14 * d + d + d + 257 * d + 2 * d
    assert rows['ViT-6.5B/14'].split('|')[3].split('/')[0].strip() == f'{encoder / 1e6:,.1f}' == '6,447.6'
    P = float(rows['ViT-6.5B/14'].split('|')[2].replace(',', '')) * 1e6
    assert f'{16 * P / 2 ** 30:.2f} (+{4 * P / 2 ** 30:.2f})' in rows['ViT-6.5B/14']
    assert f'{16 * P / 8 / 2 ** 30:.2f} + ' in rows['ViT-6.5B/14']


def test_resume_benchmark_loads_only_the_first_trained_batch_when_the_sampler_skips(tmp_path):
    """tools/benchmark_resume.py's core on 96 noise JPEGs, batch 8 (12 batches), no workers: at
    10%, 50% and 90% of the epoch (1, 6 and 11 batches trained) drawing and dropping loads the
    trained batches and the first one to train, (done + 1) x 8 images, skipping in the sampler
    that one batch alone; both reach the same images."""
    from mae_mm.benchmark.resume_cost import DRAW, MODES, SKIP, make_noise_jpegs, time_resume
    data = str(tmp_path / 'noise')
    assert make_noise_jpegs(data, 96) == 96
    assert make_noise_jpegs(data, 96) == 0  # made once
    assert make_noise_jpegs(str(tmp_path / 'again'), 2) == 2  # the same bytes whatever is already there
    assert (tmp_path / 'again' / 'noise_00001.jpg').read_bytes() == (tmp_path / 'noise/noise_00001.jpg').read_bytes()
    try:
        length, figures = time_resume(data, osp.join(ROOT, DEMO_PRETRAIN), batch=8, workers=0, repeats=1)
    finally:
        DefaultScope._instance_dict.clear()
    assert length == 12
    assert [(f.fraction, f.done, f.mode) for f in figures] == [(f, d, m) for f, d in ((0.1, 1), (0.5, 6), (0.9, 11))
                                                               for m in MODES]
    for fig in figures:
        assert fig.loaded == ((fig.done + 1) * 8 if fig.mode == DRAW else 8,), fig
        assert len(fig.seconds) == 1 and fig.seconds[0] > 0
    by_cell = {(f.fraction, f.mode): f.first_batch for f in figures}
    for fraction in (0.1, 0.5, 0.9):
        assert len(set(by_cell[fraction, DRAW])) == 8
        assert by_cell[fraction, SKIP] == by_cell[fraction, DRAW], f'skipping reached another batch at {fraction}'
    assert len({by_cell[fraction, SKIP] for fraction in (0.1, 0.5, 0.9)}) == 3
