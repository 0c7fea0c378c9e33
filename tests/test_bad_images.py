"""Bad and unusual image files through LoadCheckedImage and each task's real train pipeline.

Every file is made here. An image is either decoded to the picture it stores (3-channel uint8
BGR, EXIF orientation applied, 16-bit and CMYK converted) or refused with an error naming the
file and the reason; with on_error='skip' it is logged, recorded and dropped, and a training run
counts the skips across its data-loader workers.
"""
import io
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope, init_default_scope
from PIL import Image

import mae_mm  # noqa: F401
from conftest import DEMO_PRETRAIN, ROOT, read_scalars, run_tool
from reliability_utils import short_schedule
from mae_mm.datasets.transforms import BadImageError, LoadCheckedImage

H, W = 40, 56


def reference_rgb():
    """(H, W, 3) uint8: smooth ramps and a green top band, so orientation and channels show."""
    yy, xx = np.mgrid[0:H, 0:W]
    rgb = np.stack([xx * 4, yy * 6, 255 - xx * 4], -1).astype(np.uint8)
    rgb[:6] = (0, 255, 0)
    return rgb


def _jpeg(img, **kw):
    buf = io.BytesIO()
    img.save(buf, 'JPEG', quality=95, subsampling=0, **kw)
    return buf.getvalue()


def _png(img):
    buf = io.BytesIO()
    img.save(buf, 'PNG')
    return buf.getvalue()


def make_files(root):
    """Writes the cases; returns {name: path}, the expected BGR arrays and the bad files' reasons."""
    rgb = reference_rgb()
    cmyk = np.zeros((H, W, 4), np.uint8)
    cmyk[:, :20] = (0, 200, 200, 60)
    cmyk[:, 20:40] = (150, 0, 50, 0)
    cmyk[:, 40:] = (30, 30, 30, 180)
    gray16 = np.linspace(0, 65535, W).round().astype(np.uint16)[None].repeat(H, 0)
    files = {
        'rgb.jpg': _jpeg(Image.fromarray(rgb)),
        'gray.png': _png(Image.fromarray(rgb[..., 1])),
        'palette.png': _png(Image.fromarray(rgb).quantize(64)),
        'rgba.png': _png(Image.fromarray(np.dstack([rgb, np.arange(W, dtype=np.uint8)[None].repeat(H, 0)]), 'RGBA')),
        'cmyk.jpg': _jpeg(Image.fromarray(cmyk, 'CMYK')),
        'gray16.png': cv2.imencode('.png', gray16)[1].tobytes(),
        'rgb16.png': cv2.imencode('.png', rgb[..., ::-1].astype(np.uint16) * 257)[1].tobytes(),
        'tiny.png': _png(Image.fromarray(rgb[:5, :7])),
    }
    for orientation, turns in ((3, 2), (6, 1), (8, 3)):  # stored turned; EXIF says how to turn back
        exif = Image.Exif()
        exif[0x0112] = orientation
        files[f'exif{orientation}.jpg'] = _jpeg(Image.fromarray(np.ascontiguousarray(np.rot90(rgb, turns))),
                                                exif=exif.tobytes())
    expected = {
        'rgb.jpg': rgb, 'gray.png': np.repeat(rgb[..., 1:2], 3, -1), 'rgba.png': rgb, 'rgb16.png': rgb,
        'cmyk.jpg': ((255 - cmyk[..., :3].astype(float)) * (255 - cmyk[..., 3:]) / 255).round(),
        'gray16.png': np.repeat((gray16 * (255 / 65535)).round()[..., None], 3, -1),
        'tiny.png': rgb[:5, :7], 'exif3.jpg': rgb, 'exif6.jpg': rgb, 'exif8.jpg': rgb,
    }
    jpeg = files['rgb.jpg']
    png = _png(Image.fromarray(rgb))
    buf = io.BytesIO()
    Image.fromarray(rgb[..., 0].astype(np.float32) / 255).save(buf, 'TIFF')
    bad = {
        'zero.jpg': (b'', 'zero-byte file'),
        'truncated.jpg': (jpeg[:len(jpeg) * 2 // 3], 'truncated JPEG'),
        'truncated.png': (png[:len(png) // 2], 'truncated PNG'),
        'garbage.jpg': (np.random.default_rng(0).integers(0, 256, 3000, np.uint8).tobytes(), 'not a decodable image'),
        'float.tif': (buf.getvalue(), 'floating-point pixels'),
    }
    paths = {}
    for name, content in {**files, **{k: v[0] for k, v in bad.items()}}.items():
        paths[name] = osp.join(root, name)
        with open(paths[name], 'wb') as f:
            f.write(content)
    paths['missing.jpg'] = osp.join(root, 'missing.jpg')
    reasons = {k: v[1] for k, v in bad.items()}
    reasons['missing.jpg'] = 'FileNotFoundError'
    # trailing bytes after the JPEG's end marker are harmless
    paths['trailing.jpg'] = osp.join(root, 'trailing.jpg')
    with open(paths['trailing.jpg'], 'wb') as f:
        f.write(jpeg + b'\x00' * 64 + b'camera maker notes')
    expected['trailing.jpg'] = rgb
    return paths, {k: np.asarray(v, np.float64)[..., ::-1] for k, v in expected.items()}, reasons


@pytest.fixture(scope='module')
def cases(tmp_path_factory):
    return make_files(str(tmp_path_factory.mktemp('images')))


# --- the loader alone -------------------------------------------------------------------------

def test_mmcv_loader_today_fails_opaquely_or_silently(cases):
    """Why LoadCheckedImage exists: mmcv 2.1's loader on the same files."""
    from mmcv.transforms import LoadImageFromFile
    paths, expected, _ = cases
    with pytest.raises(AssertionError, match='failed to load image'):  # no reason given
        LoadImageFromFile()(dict(img_path=paths['garbage.jpg']))
    with pytest.raises(cv2.error) as e:  # OpenCV's assertion, no file name
        LoadImageFromFile()(dict(img_path=paths['zero.jpg']))
    assert 'zero.jpg' not in str(e.value)
    clipped = LoadImageFromFile(imdecode_backend='pillow')(dict(img_path=paths['gray16.png']))['img']
    assert np.abs(clipped - expected['gray16.png']).max() > 200  # Pillow clips 16-bit gray to 255


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_unusual_images_decode_to_the_picture_they_store(cases, backend):
    paths, expected, _ = cases
    load = LoadCheckedImage(imdecode_backend=backend)
    for name, want in expected.items():
        out = load(dict(img_path=paths[name]))
        img = out['img']
        assert img.dtype == np.uint8 and img.shape == want.shape, (name, img.shape)
        assert out['img_shape'] == out['ori_shape'] == want.shape[:2]
        err = np.abs(img - want)
        tol = (1.5, 24) if name.endswith('.jpg') else (0.6, 1)  # JPEG q95 4:4:4: mean, max error
        assert err.mean() < tol[0] and err.max() <= tol[1], (name, backend, err.mean(), err.max())


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_bad_files_raise_naming_the_file_and_the_reason(cases, backend):
    paths, _, reasons = cases
    load = LoadCheckedImage(imdecode_backend=backend)
    for name, reason in reasons.items():
        with pytest.raises(BadImageError) as e:
            load(dict(img_path=paths[name]))
        assert str(e.value).startswith(paths[name] + ': ') and reason in str(e.value), str(e.value)


def test_skip_logs_records_and_returns_none(cases, tmp_path):
    paths, _, reasons = cases
    logger = MMLogger.get_instance('test_bad_images_skip', log_file=str(tmp_path / 'run.log'))
    load = LoadCheckedImage(on_error='skip')
    for name in reasons:
        assert load(dict(img_path=paths[name])) is None
    assert load(dict(img_path=paths['rgb.jpg']))['img'].shape == (H, W, 3)
    with open(tmp_path / 'skipped_images.txt') as f:  # next to the current logger's log file
        records = [line.rstrip('\n').split('\t') for line in f]
    assert [r[0] for r in records] == [paths[n] for n in reasons]
    assert all(reasons[n] in r[1] for n, r in zip(reasons, records))
    logger.handlers[-1].flush()
    log = (tmp_path / 'run.log').read_text()
    assert all(f'Skipped a bad image: {paths[n]}' in log for n in reasons)


def test_skips_in_forked_workers_reach_the_record_file(cases, tmp_path):
    paths, _, reasons = cases
    record = tmp_path / 'skipped.txt'
    load = LoadCheckedImage(on_error='skip')
    load.skip_record = str(record)  # what SkippedImagesHook sets before the workers start
    names = list(reasons) + ['rgb.jpg', 'gray.png']
    results = list(torch.utils.data.DataLoader(
        [paths[n] for n in names], batch_size=None, num_workers=2, multiprocessing_context='fork',
        collate_fn=lambda p: load(dict(img_path=p)) is None))
    assert results == [n in reasons for n in names]
    assert sorted(line.split('\t')[0] for line in record.read_text().splitlines()) == \
        sorted(paths[n] for n in reasons)


def test_skipped_images_hook_hands_its_record_to_every_loader_of_the_train_dataset(tmp_path):
    """Through dataset wrappers and composed transforms; the val pipeline's loader is left alone."""
    from types import SimpleNamespace

    from mmengine.dataset import BaseDataset, RepeatDataset
    from mmengine.logging import MessageHub

    from mae_mm.engine import SkippedImagesHook

    def dataset(pipeline):
        return BaseDataset(data_root=str(tmp_path), pipeline=pipeline, lazy_init=True, serialize_data=False)

    # mmengine's wrappers take datasets as instances and wrappers as configs
    train = RepeatDataset(times=2, lazy_init=True, dataset=dict(type='ConcatDataset', lazy_init=True, datasets=[
        dataset([dict(type='mae_mm.LoadCheckedImage', on_error='skip')]),
        dataset([dict(type='mmcv.RandomChoice', transforms=[[dict(type='mae_mm.LoadCheckedImage')]])])]))
    val = dataset([dict(type='mae_mm.LoadCheckedImage')])
    runner = SimpleNamespace(log_dir=str(tmp_path / 'log'), train_dataloader=SimpleNamespace(dataset=train),
                             message_hub=MessageHub.get_instance('test_skipped_images_hook'))
    hook = SkippedImagesHook()
    hook.before_run(runner)
    hook.before_train(runner)
    loaders = [train.dataset.datasets[0].pipeline.transforms[0],
               train.dataset.datasets[1].pipeline.transforms[0].transforms[0].transforms[0]]
    assert all(isinstance(t, LoadCheckedImage) for t in loaders)
    assert [t.skip_record for t in loaders] == [str(tmp_path / 'log' / 'skipped_images.txt')] * 2
    assert val.pipeline.transforms[0].skip_record is None


def test_loader_refuses_options_that_break_its_guarantees():
    with pytest.raises(ValueError, match='on_error'):
        LoadCheckedImage(on_error='ignore')
    with pytest.raises(ValueError, match='color_type'):
        LoadCheckedImage(color_type='unchanged')
    with pytest.raises(ValueError, match='ignore_empty'):
        LoadCheckedImage(ignore_empty=True)


# --- each task's real train pipeline ------------------------------------------------------------

DEMOS = {
    'pretrain': DEMO_PRETRAIN,
    'finetune': 'configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py',
    'coco': 'configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py',
    'ade20k': 'configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py',
}


def build_train_pipeline(task, **loader_options):
    """The demo config's train pipeline, in its default scope; the first step is our loader (or our
    loader that also crops)."""
    cfg = Config.fromfile(osp.join(ROOT, DEMOS[task]))
    pipeline = [dict(t) for t in cfg.train_dataloader.dataset.pipeline]
    if pipeline[0]['type'] == 'LoadImageFromFile':
        # the COCO configs are wired by their owner; until then: the change they need
        pipeline[0] = dict(type='mae_mm.LoadCheckedImage')
    assert pipeline[0]['type'].rsplit('.', 1)[-1] in ('LoadCheckedImage', 'DecodeRandomResizedCrop'), pipeline[0]
    pipeline[0].update(loader_options)
    init_default_scope(cfg.default_scope)
    try:
        return Compose(pipeline), cfg
    finally:
        DefaultScope._instance_dict.clear()


def sample_for(task, img_path, tmp_path):
    """The data info each task's dataset would hand its pipeline for ``img_path``."""
    if task in ('pretrain', 'finetune'):
        return dict(img_path=img_path, gt_label=0)
    with Image.open(img_path) as im:
        w, h = im.size
    if task == 'coco':  # one object covering the picture
        return dict(img_path=img_path, img_id=0, height=h, width=w, instances=[dict(
            bbox=[0, 0, w, h], bbox_label=0, ignore_flag=0, mask=[[0, 0, w, 0, w, h, 0, h]])])
    seg = tmp_path / (osp.basename(img_path) + '.seg.png')  # ade20k: labels 1..4 as stored
    Image.fromarray(((np.arange(w)[None] * 4 // w) + 1).repeat(h, 0).astype(np.uint8)).save(seg)
    return dict(img_path=img_path, seg_map_path=str(seg), reduce_zero_label=True, seg_fields=[])


@pytest.mark.parametrize('task', list(DEMOS))
def test_each_task_pipeline_on_every_case(cases, task, tmp_path):
    """Odd and tiny images give the task's input size; bad files raise naming the file, or skip."""
    paths, expected, reasons = cases
    pipeline, cfg = build_train_pipeline(task)
    skipping, _ = build_train_pipeline(task, on_error='skip')
    if task in ('pretrain', 'finetune'):
        size = (64, 64)
    elif task == 'coco':
        size = tuple(cfg.image_size)
    else:
        size = tuple(cfg.crop_size)
    for name in expected:
        with Image.open(paths[name]) as im:
            if task == 'ade20k' and name.startswith('exif') and im.getexif().get(0x0112, 1) != 1:
                continue  # no stored-orientation seg map fits: see test_ade20k_seg_map_must_fit_the_image
        out = pipeline(sample_for(task, paths[name], tmp_path))
        inputs = out['inputs']
        assert inputs.dtype == torch.uint8 and inputs.shape[0] == 3, (task, name, inputs.shape)
        if task == 'ade20k':  # crops of up to crop_size; SegDataPreProcessor pads to it
            assert inputs.shape[1] <= size[0] and inputs.shape[2] <= size[1], (name, inputs.shape)
            assert tuple(out['data_samples'].gt_sem_seg.data.shape[1:]) == tuple(inputs.shape[1:])
        else:
            assert tuple(inputs.shape[1:]) == size, (task, name, inputs.shape)
    for name, reason in reasons.items():
        with pytest.raises(BadImageError, match=reason) as e:
            pipeline(sample_for(task, paths['rgb.jpg'], tmp_path) | dict(img_path=paths[name]))
        assert paths[name] in str(e.value)
        assert skipping(sample_for(task, paths['rgb.jpg'], tmp_path) | dict(img_path=paths[name])) is None


def test_ade20k_seg_map_must_fit_the_image(cases, tmp_path):
    """An EXIF-rotated photo whose label map was drawn on the stored pixels: refused, not misaligned."""
    paths, _, _ = cases
    pipeline, _ = build_train_pipeline('ade20k')
    sample = sample_for('ade20k', paths['exif6.jpg'], tmp_path)  # seg map of the stored 56 x 40
    with pytest.raises(ValueError, match=r'exif6\.jpg.*\(40, 56\).*exif6\.jpg\.seg\.png is \(56, 40\)'):
        pipeline(sample)


# --- end to end: tools/train.py on the demo pretraining -----------------------------------------

def _small_demo_root(demo_data, dst, bad):
    """A copy of a few demo images (train and val) plus the ``bad`` files in train/."""
    src = osp.join(demo_data, 'imagenet')
    for split, per_class in (('train', 4), ('val', 1)):
        for cls in sorted(os.listdir(osp.join(src, split)))[:3]:
            os.makedirs(osp.join(dst, split, cls))
            for name in sorted(os.listdir(osp.join(src, split, cls)))[:per_class]:
                shutil.copy(osp.join(src, split, cls, name), osp.join(dst, split, cls, name))
    cls = sorted(os.listdir(osp.join(dst, 'train')))[0]
    paths = []
    for name, content in bad.items():
        paths.append(osp.join(dst, 'train', cls, name))
        with open(paths[-1], 'wb') as f:
            f.write(content)
    return paths


@pytest.mark.slow
def test_demo_pretraining_skips_and_counts_bad_images_or_stops_naming_them(demo_data, tmp_path):
    """With on_error=skip the run finishes and reports the skips of its two workers; by default
    the first bad file stops it with its name."""
    train = osp.join(demo_data, 'imagenet', 'train')
    first_class = osp.join(train, sorted(os.listdir(train))[0])
    with open(osp.join(first_class, sorted(os.listdir(first_class))[0]), 'rb') as f:
        good = f.read()
    bad = {'zz_empty.JPEG': b'', 'zz_cut.JPEG': good[:len(good) // 2], 'zz_noise.JPEG': os.urandom(2000)}
    root = str(tmp_path / 'data') + '/'
    bad_paths = _small_demo_root(demo_data, root, bad)
    common = ['--cfg-options', f'data_root={root}', f'train_dataloader.dataset.data_root={root}',
              f'val_dataloader.dataset.data_root={root}', f'test_dataloader.dataset.data_root={root}',
              'train_cfg.max_epochs=1', 'train_dataloader.batch_size=8', 'default_hooks.logger.interval=1',
              'train_dataloader.drop_last=False']  # every file is met in the epoch
    # the copy is too small for the demo's reconstruction panels and kNN probe (4 and 400 images):
    # a config without those two hooks, which this test is not about
    base = osp.join(ROOT, DEMO_PRETRAIN)
    hooks = [dict(h) for h in Config.fromfile(base).custom_hooks
             if h['type'] not in ('mae_mm.ReconstructionVisHook', 'mae_mm.KNNProbeHook')]
    config = tmp_path / 'pretrain_without_watch_hooks.py'
    config.write_text(f'_base_ = {base!r}\ncustom_hooks = {hooks!r}\n' + short_schedule(1))
    work = str(tmp_path / 'skip')
    run_tool('tools/train.py', str(config), '--work-dir', work, *common,
             'train_dataloader.dataset.pipeline.0.on_error=skip', timeout=600)
    (record,) = [osp.join(dp, f) for dp, _, fs in os.walk(work) for f in fs if f == 'skipped_images.txt']
    with open(record) as f:
        skipped = [line.split('\t')[0] for line in f]
    assert set(skipped) == set(bad_paths)  # each bad file met once per epoch; refetches may meet more
    counts = [r['skipped_images'] for r in read_scalars(work) if 'skipped_images' in r]
    assert counts and counts[-1] == len(skipped) >= len(bad_paths)
    (log,) = [osp.join(dp, f) for dp, _, fs in os.walk(work) for f in fs if f.endswith('.log')]
    text = open(log).read()
    assert f'in total {len(skipped)} (3 distinct files' in text
    assert all(f'Skipped a bad image: {p}' in text for p in bad_paths)
    assert osp.exists(osp.join(work, 'epoch_1.pth'))

    with pytest.raises(AssertionError) as e:
        run_tool('tools/train.py', str(config), '--work-dir', str(tmp_path / 'raise'), *common, timeout=600)
    assert 'BadImageError' in str(e.value) and any(f'{p}: ' in str(e.value) for p in bad_paths)
