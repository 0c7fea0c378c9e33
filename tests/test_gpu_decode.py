"""The GPU decode path (run here on CPU) matches the CPU pipeline crop for crop."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from PIL import Image

import mae_mm.datasets.gpu_decode  # noqa: F401  (what the GPU decode config's custom_imports loads)
from mae_mm.models.mae import MAEDataPreprocessor
from mae_mm.models.mae.jpeg_decode_preprocessor import JpegDecodeDataPreprocessor

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
GPU_CFG = 'configs/pretrain/mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py'
CPU_CFG = 'configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'
SIZES = [(500, 375), (375, 500), (640, 427), (333, 333)]  # (w, h), ImageNet-like


@pytest.fixture(scope='module')
def jpegs(tmp_path_factory):
    """Photo-like (smooth plus mild noise) JPEGs at quality 90."""
    folder = tmp_path_factory.mktemp('jpegs')
    rng = np.random.default_rng(0)
    paths = []
    for i, (w, h) in enumerate(SIZES):
        low = Image.fromarray(rng.integers(0, 256, (h // 8, w // 8, 3)).astype(np.uint8))
        img = np.asarray(low.resize((w, h), Image.BICUBIC), np.int16) + rng.integers(-8, 9, (h, w, 3))
        path = str(folder / f'{i}.JPEG')
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def build(cfg_path):
    cfg = Config.fromfile(osp.join(ROOT, cfg_path))
    init_default_scope('mae_mm')
    from mae_mm.registry import MODELS
    return Compose(cfg.train_dataloader.dataset.pipeline), MODELS.build(cfg.model.data_preprocessor)


def run(pipeline, preprocessor, paths, seed):
    np.random.seed(seed)
    batch = pseudo_collate([pipeline(dict(img_path=p)) for p in paths])
    return preprocessor(batch, True)['inputs']


def test_matches_the_cpu_pipeline_for_the_same_draws(jpegs):
    cpu = build(CPU_CFG)
    gpu = build(GPU_CFG)
    assert isinstance(gpu[1], JpegDecodeDataPreprocessor) and isinstance(cpu[1], MAEDataPreprocessor)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    for seed in range(3):
        ref = run(*cpu, jpegs, seed)
        out = run(*gpu, jpegs, seed)
        assert out.shape == ref.shape == (len(jpegs), 3, 224, 224) and out.dtype == torch.float32
        levels = ((out - ref) * std).abs()  # in 0-255 pixel levels
        # decoder and bicubic-filter rounding only (measured: mean 0.18, max 2 levels);
        # a wrong box, flip or channel order is off by tens of levels
        assert levels.mean() < 0.5, (seed, levels.mean())
        assert levels.max() <= 3.0, (seed, levels.max())


def worker_pipeline(scale=224, flip_prob=0.5):
    return Compose([dict(type='LoadJpegBytes'), dict(type='RandomResizedCropParams', scale=scale,
                                                       crop_ratio_range=(0.2, 1.0)),
                    dict(type='RandomFlipParams', prob=flip_prob), dict(type='PackJpegBytes')])


def test_flip_mirrors_the_same_crop(jpegs):
    init_default_scope('mae_mm')
    pre = JpegDecodeDataPreprocessor()
    batches = []
    for prob in (0.0, 1.0):
        load = worker_pipeline(64, prob)
        np.random.seed(1)
        batch = pseudo_collate([load(dict(img_path=p)) for p in jpegs])
        assert all(s.flip == bool(prob) for s in batch['data_samples'])
        batches.append(pre(batch, True)['inputs'])
    torch.testing.assert_close(batches[1], batches[0].flip(-1))


def test_crop_boxes_are_randomresizedcrop_draws(jpegs):
    init_default_scope('mae_mm')
    load = worker_pipeline()
    np.random.seed(0)
    fractions = []
    for _ in range(50):
        sample = load(dict(img_path=jpegs[0]))['data_samples']
        assert tuple(sample.crop_size) == (224, 224) and sample.interpolation == 'bicubic'
        top, left, h, w = sample.crop_box
        img_h, img_w = sample.ori_shape
        assert 0 <= top and top + h <= img_h and 0 <= left and left + w <= img_w
        fractions.append(h * w / (img_h * img_w))
    assert 0.15 < min(fractions) and max(fractions) <= 1.0 and np.std(fractions) > 0.1


def test_a_png_is_refused_naming_the_file(tmp_path):
    path = str(tmp_path / 'not_a_jpeg.JPEG')
    Image.new('RGB', (40, 30)).save(path, format='PNG')
    init_default_scope('mae_mm')
    with pytest.raises(ValueError, match='not_a_jpeg.JPEG: .*JPEG files only, this one is PNG RGB'):
        worker_pipeline()(dict(img_path=path))


def test_non_jpeg_files_can_be_reencoded(tmp_path, jpegs):
    init_default_scope('mae_mm')
    png, cmyk = str(tmp_path / 'png.JPEG'), str(tmp_path / 'cmyk.JPEG')
    Image.open(jpegs[0]).save(png, format='PNG')
    Image.open(jpegs[0]).convert('CMYK').save(cmyk, format='JPEG', quality=95)
    with pytest.raises(ValueError, match='cmyk.JPEG: .*this one is JPEG CMYK'):
        worker_pipeline()(dict(img_path=cmyk))
    load = Compose([dict(type='LoadJpegBytes', non_jpeg='reencode'), dict(type='RandomResizedCropParams', scale=64),
                    dict(type='RandomFlipParams'), dict(type='PackJpegBytes')])
    batch = pseudo_collate([load(dict(img_path=p)) for p in (png, cmyk, jpegs[0])])
    out = JpegDecodeDataPreprocessor()(batch, True)['inputs']
    assert out.shape == (3, 3, 64, 64) and torch.isfinite(out).all()


def test_a_corrupt_jpeg_is_refused_naming_the_file(jpegs, tmp_path):
    init_default_scope('mae_mm')
    load = worker_pipeline(32)
    good = load(dict(img_path=jpegs[0]))
    bad = load(dict(img_path=jpegs[1]))  # header is fine, the scan data is garbage
    head = 700
    bad['inputs'][head:] = torch.from_numpy(np.random.default_rng(0).integers(0, 256, bad['inputs'].numel() - head,
                                                                               dtype=np.uint8))
    bad['data_samples'].set_metainfo(dict(img_path='corrupt_file.JPEG'))
    with pytest.raises(ValueError, match='corrupt_file.JPEG: corrupt JPEG'):
        JpegDecodeDataPreprocessor()(pseudo_collate([good, bad]), True)
    truncated = dict(bad, inputs=bad['inputs'][:2].clone())
    with pytest.raises(ValueError, match='corrupt_file.JPEG: not a JPEG'):
        JpegDecodeDataPreprocessor()(pseudo_collate([good, truncated]), True)
