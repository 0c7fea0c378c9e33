"""The reduced decode of the training pipelines: the same crop boxes from the same draws, output close
to today's full decode + Pillow resize, every check of LoadCheckedImage kept, the switch back."""
import mmcv
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope, init_default_scope
from mmpretrain.datasets.transforms import RandomResizedCrop
from PIL import Image

from mae_mm.datasets.crop_decode import DecodeRandomResizedCrop
from mae_mm.datasets.reduced_decode import crop_at_scale, dct_reduction, resize_uint8
from mae_mm.datasets.transforms import BadImageError, LoadCheckedImage

SEEDS = range(24)
# Mean |difference| from today's pipeline per image, in levels of 0-255, on these 1600 x 1200
# photo-like images. Measured: at most 0.10 at full scale (torch's kernel against Pillow's);
# at 1/2 scale 0.8-1.2 on average over the seeds, at most 2.0; at 1/4 scale 1.6-2.4, at most 3.8:
# a downscale in two steps (the DCT's, then the resize) is a little softer than Pillow's one
# antialiased bicubic step (a two-step Pillow resize differs from the one-step by as much).
FULL_SCALE_BOUND = 0.25
REDUCED_BOUND = 5.0
REDUCED_MEAN_BOUND = {2: 1.5, 4: 3.0}


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mae_mm')
    yield
    DefaultScope._instance_dict.clear()


def photo_like(w, h, seed=0):
    """Smooth colour fields with a little grain, as a photograph at this size: (h, w, 3) RGB uint8."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, (max(2, h // 48), max(2, w // 48), 3)).astype(np.uint8)
    img = np.asarray(Image.fromarray(low).resize((w, h), Image.BICUBIC), dtype=np.int16)
    return (img + rng.integers(-3, 4, (h, w, 3))).clip(0, 255).astype(np.uint8)


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """name -> path: large RGB, greyscale, CMYK and EXIF-rotated JPEGs, a PNG, a 500 x 375 JPEG."""
    root = tmp_path_factory.mktemp('reduced')
    paths = {}
    rgb = Image.fromarray(photo_like(1600, 1200))
    for name, img, kwargs in [('rgb.jpg', rgb, {}), ('small.jpg', Image.fromarray(photo_like(500, 375, 1)), {}),
                              ('grey.jpg', rgb.convert('L'), {}), ('cmyk.jpg', rgb.convert('CMYK'), {}),
                              ('progressive.jpg', rgb, dict(progressive=True)), ('rgb.png', rgb, {})]:
        paths[name] = str(root / name)
        img.save(paths[name], quality=90, **kwargs)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display: the picture is 1200 wide, 1600 high
    paths['exif6.jpg'] = str(root / 'exif6.jpg')
    Image.fromarray(photo_like(1600, 1200, 2)).save(paths['exif6.jpg'], quality=90, exif=exif)
    with open(paths['rgb.jpg'], 'rb') as f:
        data = f.read()
    paths['truncated.jpg'] = str(root / 'truncated.jpg')
    with open(paths['truncated.jpg'], 'wb') as f:
        f.write(data[:len(data) // 2])
    return paths


def today(scale=224, crop_ratio_range=(0.2, 1.0)):
    """LoadCheckedImage + mmpretrain's RandomResizedCrop(backend='pillow'): the pipeline before."""
    return Compose([dict(type='LoadCheckedImage'),
                    dict(type='mmpretrain.RandomResizedCrop', scale=scale, crop_ratio_range=crop_ratio_range,
                         backend='pillow', interpolation='bicubic')])


def fast(**kwargs):
    return Compose([dict(type='DecodeRandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), **kwargs)])


def run(pipeline, path, seed):
    np.random.seed(seed)
    out = pipeline(dict(img_path=path))
    return out, np.random.get_state()[1].copy()


def test_the_same_boxes_from_the_same_draws(images):
    """For each seed: the box is the one mmpretrain's RandomResizedCrop draws on the full decode, and
    the random stream is left where today's pipeline leaves it (the flip that follows is the same)."""
    for name in ('rgb.jpg', 'exif6.jpg', 'small.jpg', 'rgb.png'):
        full = mmcv.imread(images[name])
        crop = RandomResizedCrop(224, crop_ratio_range=(0.2, 1.0))
        for seed in SEEDS:
            np.random.seed(seed)
            expected = tuple(int(v) for v in crop.rand_crop_params(full))
            out, state = run(fast(), images[name], seed)
            _, today_state = run(today(), images[name], seed)
            assert out['crop_box'] == expected, (name, seed)
            assert (state == today_state).all(), (name, seed)
            assert out['ori_shape'] == full.shape[:2]


@pytest.mark.parametrize('name', ['rgb.jpg', 'progressive.jpg', 'grey.jpg', 'cmyk.jpg', 'exif6.jpg', 'small.jpg',
                                  'rgb.png'])
def test_the_output_stays_close_to_todays(images, name):
    """Mean |difference| per image within the bounds above, at each DCT scale the crops chose;
    the large pictures use the reduced decode, the 500 x 375 JPEG and the PNG never do."""
    reductions, mads = {}, {}
    for seed in SEEDS:
        out, _ = run(fast(), images[name], seed)
        ref, _ = run(today(), images[name], seed)
        assert out['img'].shape == ref['img'].shape == (224, 224, 3) and out['img'].dtype == np.uint8
        mad = np.abs(out['img'].astype(np.float64) - ref['img']).mean()
        k = out['dct_reduction']
        assert mad <= (FULL_SCALE_BOUND if k == 1 else REDUCED_BOUND), (name, seed, k, mad)
        top, left, height, width = out['crop_box']
        assert k == (1 if name.endswith('.png') else min(dct_reduction(height, 224), dct_reduction(width, 224)))
        reductions[k] = reductions.get(k, 0) + 1
        mads.setdefault(k, []).append(mad)
    for k, values in mads.items():
        assert k == 1 or np.mean(values) <= REDUCED_MEAN_BOUND[k], (name, k, np.mean(values))
    if name in ('small.jpg', 'rgb.png'):
        assert set(reductions) == {1}
    else:
        assert set(reductions) >= {2, 4}, reductions  # crops of 448-1600 px: 1/2 and 1/4 decodes


def test_the_switch_off_is_todays_pipeline_bit_for_bit(images):
    for name in ('rgb.jpg', 'exif6.jpg', 'cmyk.jpg', 'rgb.png'):
        for seed in SEEDS[:6]:
            out, state = run(fast(reduced_decode=False), images[name], seed)
            ref, today_state = run(today(), images[name], seed)
            assert np.array_equal(out['img'], ref['img']) and (state == today_state).all(), (name, seed)
            assert out['dct_reduction'] == 1


def test_the_exif_orientation_is_applied_before_the_box_is_drawn(images):
    """The stored 1600 x 1200 picture displays 1200 x 1600: boxes are drawn on (1600, 1200) (h, w)."""
    out, _ = run(fast(), images['exif6.jpg'], 0)
    assert out['ori_shape'] == (1600, 1200)
    boxes = [run(fast(), images['exif6.jpg'], seed)[0]['crop_box'] for seed in SEEDS]
    assert max(top + height for top, _, height, _ in boxes) > 1200  # rows only the rotated picture has
    ignored = Compose([dict(type='DecodeRandomResizedCrop', scale=224, color_type='color_ignore_orientation')])
    assert run(ignored, images['exif6.jpg'], 0)[0]['ori_shape'] == (1200, 1600)


def test_dct_reduction_and_the_crop_at_scale():
    assert [dct_reduction(n, 224) for n in (223, 224, 447, 448, 895, 896, 1791, 1792, 5000)] == \
        [1, 1, 1, 2, 2, 4, 4, 8, 8]
    img = np.arange(250 * 200 * 3, dtype=np.int64).reshape(250, 200, 3)  # a 1/4 decode of (1000, 800)
    crop = crop_at_scale(img, (100, 40, 600, 400), (1000, 800))
    assert np.array_equal(crop, img[25:175, 10:110])
    odd = np.zeros((126, 101, 3))  # 1/4 of (501, 401): ceil sizes; the last box edge stays inside
    assert crop_at_scale(odd, (0, 0, 501, 401), (501, 401)).shape == (126, 101, 3)


def test_the_resize_kernel_matches_pillows():
    """torch's uint8 bicubic with antialias against Pillow's, down and up, within 0.1 levels on average."""
    img = photo_like(480, 360, 3)[..., ::-1]  # BGR, as decoded; a negative-stride view
    for size in [(224, 224), (100, 300), (400, 500)]:
        ours = resize_uint8(img[30:330, 50:450], size)
        pillow = mmcv.imresize(np.ascontiguousarray(img[30:330, 50:450]), size[::-1], interpolation='bicubic',
                               backend='pillow')
        assert ours.shape == pillow.shape == (*size, 3) and ours.flags['C_CONTIGUOUS']
        assert np.abs(ours.astype(np.float64) - pillow).mean() < 0.1
    with pytest.raises(ValueError, match="'nearest'"):
        resize_uint8(img, (10, 10), 'nearest')


def test_bad_files_are_named_before_any_decode(images):
    pipeline = fast()
    with pytest.raises(BadImageError, match='truncated JPEG') as err:
        pipeline(dict(img_path=images['truncated.jpg']))
    assert images['truncated.jpg'] in str(err.value)
    skipping = DecodeRandomResizedCrop(224, on_error='skip')
    skipping.skip_record = images['truncated.jpg'] + '.skipped.txt'
    assert skipping(dict(img_path=images['truncated.jpg'])) is None
    with open(skipping.skip_record) as f:
        assert f.read().startswith(images['truncated.jpg'] + '\ttruncated JPEG')


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match='reduced_decode'):
        DecodeRandomResizedCrop(224, reduced_decode='yes')
    with pytest.raises(ValueError, match="interpolation must be bicubic or bilinear, got 'nearest'"):
        DecodeRandomResizedCrop(224, interpolation='nearest')
    with pytest.raises(ValueError, match='min_short_edge'):
        DecodeRandomResizedCrop(224, min_short_edge=256)
    with pytest.raises(ValueError, match='min_short_edge'):
        LoadCheckedImage(min_short_edge=0)


def test_a_reduced_decode_for_a_resize_of_the_short_edge(images):
    """LoadCheckedImage(min_short_edge=256): the 1600 x 1200 JPEG at 1/4 (400 x 300: 1/8 would leave
    150), the PNG at full size; after the evaluation's resize to 256 and centre crop, close to the
    full decode's."""
    steps = [dict(type='mmpretrain.ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
             dict(type='mmpretrain.CenterCrop', crop_size=224)]
    reduced = Compose([dict(type='LoadCheckedImage', min_short_edge=256)])
    assert reduced(dict(img_path=images['rgb.jpg']))['img'].shape == (300, 400, 3)
    assert reduced(dict(img_path=images['exif6.jpg']))['img'].shape == (400, 300, 3)
    assert reduced(dict(img_path=images['rgb.png']))['img'].shape == (1200, 1600, 3)
    for name in ('rgb.jpg', 'exif6.jpg', 'grey.jpg'):
        ours = Compose([dict(type='LoadCheckedImage', min_short_edge=256), *steps])(dict(img_path=images[name]))
        ref = Compose([dict(type='LoadCheckedImage'), *steps])(dict(img_path=images[name]))
        assert ours['img'].shape == ref['img'].shape == (224, 224, 3)
        assert np.abs(ours['img'].astype(np.float64) - ref['img']).mean() < REDUCED_BOUND, name


def test_the_training_configs_use_it_and_evaluation_does_not():
    from mmengine.config import Config

    from conftest import ROOT
    for path, ratio in [('configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py', (0.2, 1.0)),
                        ('configs/finetune/vit-base-p16_8xb128-coslr-100e_in1k.py', None)]:
        cfg = Config.fromfile(f'{ROOT}/{path}')
        first = cfg.train_dataloader.dataset.pipeline[0]
        assert first.type.rsplit('.', 1)[-1] == 'DecodeRandomResizedCrop' and first.get('reduced_decode', True)
        assert first.get('crop_ratio_range') == ratio
        test_first = cfg.test_dataloader.dataset.pipeline[0]
        assert test_first.type.rsplit('.', 1)[-1] == 'LoadCheckedImage' and not test_first.get('min_short_edge')
    fixed = Config.fromfile(f'{ROOT}/configs/pretrain/mae_vit-large-p16_8xb512-amp-aug-fixedcrop-coslr-800e_in1k.py')
    assert fixed.train_dataloader.dataset.pipeline[0].min_short_edge == 256

