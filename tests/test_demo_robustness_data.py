"""The demo ImageNet-C and ImageNet-R: the corruptions against their definitions, and the sets' layouts."""
import io
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

from mae_mm.demo_data import corruptions, imagenet, imagenet_c, imagenet_r, make
from mae_mm.demo_data.corruptions import CORRUPTIONS

RANDOM = {'gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise', 'motion_blur', 'fog'}
BLURS = ('defocus_blur', 'motion_blur', 'zoom_blur', 'gaussian_blur')


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    """A root holding the demo ImageNet (``imagenet/{train,val}``), which the two sets are made from."""
    root = tmp_path_factory.mktemp('demo')
    imagenet.make_imagenet(str(root / 'imagenet'), seed=0)
    return root


@pytest.fixture(scope='module')
def crops(demo_root):
    """Three demo val images as the demo classifier sees them: (64, 64, 3) uint8 each."""
    val = demo_root / 'imagenet' / 'val'
    return [imagenet_c.as_tested(Image.open(val / cls / f'{cls}_0000.JPEG'))
            for cls in ('photo', 'stripes', 'triangles')]


def mean_abs_change(name, severity, images):
    """Mean |corrupted - clean| in grey levels over ``images``, each corrupted from seed 0."""
    return np.mean([np.abs(CORRUPTIONS[name](img, severity, np.random.default_rng(0)).astype(float) - img).mean()
                    for img in images])


def high_frequency(name, severity, images):
    """Mean |Laplacian| of the corrupted ``images`` (severity 0: the clean ones)."""
    out = [CORRUPTIONS[name](img, severity, np.random.default_rng(0)) if severity else img for img in images]
    return np.mean([np.abs(cv2.Laplacian(o.astype(np.float32), cv2.CV_32F)).mean() for o in out])


@pytest.mark.parametrize('name', sorted(CORRUPTIONS))
def test_each_corruption_keeps_shape_and_dtype_and_is_deterministic_for_a_seed(name, crops):
    img = crops[0]
    wide = np.ascontiguousarray(np.concatenate([crops[1], crops[2]], axis=1)[:48])  # (48, 128, 3)
    for severity in imagenet_c.SEVERITIES:
        for x in (img, wide):
            out = CORRUPTIONS[name](x, severity, np.random.default_rng(7))
            assert out.shape == x.shape and out.dtype == np.uint8, (name, severity, out.shape, out.dtype)
            np.testing.assert_array_equal(out, CORRUPTIONS[name](x, severity, np.random.default_rng(7)))
        # the random ones draw from the generator; the others do not touch it
        seeds_differ = [CORRUPTIONS[name](img, severity, np.random.default_rng(seed)) for seed in (7, 8)]
        assert (not np.array_equal(*seeds_differ)) == (name in RANDOM), (name, severity)
    assert not np.array_equal(CORRUPTIONS[name](img, 1, np.random.default_rng(0)), img), name


@pytest.mark.parametrize('name', sorted(set(CORRUPTIONS) - {'saturate'}))
def test_each_corruption_changes_the_image_more_at_each_severity(name, crops):
    change = [mean_abs_change(name, s, crops) for s in imagenet_c.SEVERITIES]
    assert all(b > a for a, b in zip(change, change[1:])), (name, np.round(change, 2))
    if name in BLURS:  # and a blur removes more of the fine detail
        energy = [high_frequency(name, s, crops) for s in (0, ) + imagenet_c.SEVERITIES]
        assert all(b < a for a, b in zip(energy, energy[1:])), (name, np.round(energy, 2))


def test_saturate_fades_the_colours_at_severities_1_2_and_exaggerates_them_at_3_to_5(crops):
    def saturation(img):
        return cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2HSV)[..., 1].mean()

    clean = np.mean([saturation(c) for c in crops])
    s = [np.mean([saturation(corruptions.saturate(c, sev, None)) for c in crops]) for sev in imagenet_c.SEVERITIES]
    assert clean > s[0] > s[1] and clean < s[2] < s[3] < s[4], (clean, s)


NOISE_STD = {  # name -> the noise's standard deviation at intensity x and a severity, from its definition
    'gaussian_noise': lambda x, severity: corruptions.GAUSSIAN_NOISE[severity - 1],
    'shot_noise': lambda x, severity: np.sqrt(x / corruptions.SHOT_NOISE[severity - 1]),  # Poisson(x r) / r
    'speckle_noise': lambda x, severity: x * corruptions.SPECKLE_NOISE[severity - 1]}  # x + x N(0, sigma)


@pytest.mark.parametrize('name', sorted(NOISE_STD))
def test_noise_has_the_published_spread_on_a_flat_grey_image(name):
    for level in (96, 160):  # two levels: speckle's spread grows with the intensity, the others' do not
        x, grey = level / 255, np.full((128, 128, 3), level, np.uint8)
        for severity in (1, 2):  # the higher ones clip at 0 and 1
            noise = (CORRUPTIONS[name](grey, severity, np.random.default_rng(0)) - x * 255) / 255
            assert abs(noise.std() / NOISE_STD[name](x, severity) - 1) < 0.02, (level, severity, noise.std())
            assert abs(noise.mean()) < 0.003, (level, severity, noise.mean())


def test_impulse_noise_sets_the_published_fraction_of_values_to_black_or_white_in_equal_parts():
    grey = np.full((128, 128, 3), 128, np.uint8)
    for severity, amount in enumerate(corruptions.IMPULSE_NOISE, 1):
        out = corruptions.impulse_noise(grey, severity, np.random.default_rng(0))
        black, white = (out == 0).mean(), (out == 255).mean()
        assert abs(black + white - amount) < 0.006 and abs(black - white) < 0.006, (severity, black, white)
        assert ((out == 0) | (out == 255) | (out == 128)).all()


def test_brightness_adds_the_published_shift_to_the_hsv_value():
    rgb = np.random.default_rng(0).integers(1, 256, (32, 32, 3)).astype(np.uint8)
    x = rgb / 255
    value = x.max(axis=2, keepdims=True)  # HSV's V; H and S kept, so each pixel is scaled by V' / V
    for severity, shift in enumerate(corruptions.BRIGHTNESS, 1):
        expected = x * np.minimum(value + shift, 1) / value * 255
        out = corruptions.brightness(rgb, severity, None).astype(float)
        assert np.abs(out - expected).max() <= 1.0, severity


def test_contrast_scales_the_deviations_from_each_channels_mean_by_the_published_factor():
    rgb = np.random.default_rng(0).integers(0, 256, (32, 32, 3)).astype(np.uint8)
    x = rgb.astype(float)
    mean = x.mean(axis=(0, 1))
    for severity, factor in enumerate(corruptions.CONTRAST, 1):
        out = corruptions.contrast(rgb, severity, None).astype(float)
        assert np.abs(out - (mean + factor * (x - mean))).max() <= 0.5 + 1e-3, severity


def test_gaussian_blur_damps_a_grating_as_the_published_sigma_scaled_to_the_image_says():
    """A grating of period ``P`` is damped by ``exp(-sigma^2 (1 - cos(2 pi / P)))`` (the discrete
    Gaussian's response): sigma as published on a 224 image, times 64 / 224 on a 64 one."""
    def amplitude(img, period):
        row = img[8:-8, 8:-8, 0].astype(float).mean(axis=0)  # away from the borders
        xs = np.arange(8, 8 + row.size)
        basis = np.stack([np.cos(2 * np.pi * xs / period), np.sin(2 * np.pi * xs / period), np.ones_like(xs)], 1)
        c = np.linalg.lstsq(basis, row, rcond=None)[0]
        return np.hypot(c[0], c[1])

    for side, period in ((224, 16), (64, 64 / 14)):  # the same grating relative to the picture
        wave = np.rint(128 + 100 * np.cos(2 * np.pi * np.arange(side) / period)).astype(np.uint8)
        img = np.ascontiguousarray(np.broadcast_to(wave[None, :, None], (side, side, 3)))
        for severity, sigma in enumerate(corruptions.GAUSSIAN_BLUR, 1):
            sigma = sigma * side / 224
            expected = np.exp(-sigma ** 2 * (1 - np.cos(2 * np.pi / period)))
            ratio = amplitude(corruptions.gaussian_blur(img, severity, None), period) / amplitude(img, period)
            assert abs(ratio - expected) < 0.005, (side, severity, ratio, expected)


def test_zoom_blur_averages_zooms_in_about_the_centre_by_the_published_factors():
    """A dot ``d`` px right of the centre lands at ``d z`` in the zoom by ``z``, ``z^2`` times as big:
    the blur's centroid is ``d sum(z^3) / sum(z^2)`` over the zooms and the image itself (z = 1)."""
    img = np.zeros((64, 64, 3), np.uint8)
    img[30:33, 50:53] = 255  # a 3 x 3 dot centred 19.5 px right of the centre (31.5)
    for severity, (stop, step) in enumerate(corruptions.ZOOM_BLUR, 1):
        out = corruptions.zoom_blur(img, severity, None)[..., 0].astype(float).sum(axis=0)
        centroid = (out * (np.arange(64) - 31.5)).sum() / out.sum()
        z = np.concatenate([[1.0], np.arange(1, stop, step)])
        assert abs(centroid - 19.5 * (z ** 3).sum() / (z ** 2).sum()) < 0.1, (severity, centroid)


def test_the_constants_name_imagenet_c_corruptions_in_their_families():
    from mae_mm.evaluation.imagenet_c_reference import BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS

    assert set(imagenet_c.BENCHMARK) <= set(BENCHMARK_CORRUPTIONS)
    assert set(imagenet_c.EXTRA) <= set(EXTRA_CORRUPTIONS)
    assert imagenet_c.CORRUPTIONS_USED == imagenet_c.BENCHMARK + imagenet_c.EXTRA
    assert set(imagenet_c.CORRUPTIONS_USED) == set(CORRUPTIONS)
    assert set(imagenet_r.CLASSES) < set(imagenet.CLASSES)
    assert list(imagenet_r.CLASSES) == [c for c in imagenet.CLASSES if c in imagenet_r.CLASSES]


def test_both_sets_are_made_after_the_imagenet_they_read_and_stamped_with_what_they_depend_on():
    names = list(make.DATASETS)
    assert names.index('imagenet') < names.index('imagenet-c') and names.index('imagenet') < names.index('imagenet-r')
    stamp = make.stamp_of(imagenet_c, 0)
    assert stamp['version'] == [imagenet_c.VERSION[0], imagenet.VERSION]
    assert stamp['classes'] == list(imagenet.CLASSES)
    assert stamp['split_sizes'] == {f'{c}/{s}': imagenet.SPLIT_SIZES['val'] for c in imagenet_c.CORRUPTIONS_USED
                                    for s in imagenet_c.SEVERITIES}
    stamp = make.stamp_of(imagenet_r, 0)
    assert stamp['version'] == [imagenet_r.VERSION[0], imagenet.VERSION]
    assert stamp['classes'] == list(imagenet_r.CLASSES)
    assert stamp['split_sizes'] == {s: imagenet.SPLIT_SIZES['val'] for s in imagenet_r.STYLES}


def test_demo_imagenet_c_has_imagenet_c_layout_of_64_px_corrupted_val_crops(demo_root, crops, monkeypatch):
    # three of the corruptions (every one is run above): the files take the time, ~0.5 ms each
    monkeypatch.setattr(imagenet_c, 'CORRUPTIONS_USED', ('gaussian_noise', 'brightness', 'contrast'))
    out = demo_root / 'imagenet-c'
    count = imagenet_c.make_imagenet_c(str(out), seed=0)
    per_class = imagenet.SPLIT_SIZES['val']
    assert count == len(imagenet_c.CORRUPTIONS_USED) * len(imagenet_c.SEVERITIES) * len(imagenet.CLASSES) * per_class
    assert sorted(os.listdir(out)) == sorted(imagenet_c.CORRUPTIONS_USED)
    for corruption in imagenet_c.CORRUPTIONS_USED:
        assert sorted(os.listdir(out / corruption)) == [str(s) for s in imagenet_c.SEVERITIES]
        for severity in imagenet_c.SEVERITIES:
            folder = out / corruption / str(severity)
            assert sorted(os.listdir(folder)) == sorted(imagenet.CLASSES)
            for cls in imagenet.CLASSES:  # the val images' own file names
                assert sorted(os.listdir(folder / cls)) == sorted(os.listdir(demo_root / 'imagenet' / 'val' / cls))
    reference = io.BytesIO()
    Image.new('RGB', (8, 8)).save(reference, format='JPEG', quality=85)  # ImageNet-C's quality
    with Image.open(out / 'brightness' / '3' / 'disks' / 'disks_0005.JPEG') as img:
        assert img.format == 'JPEG' and img.mode == 'RGB' and img.size == (64, 64)
        assert img.quantization == Image.open(reference).quantization
    # severity 3 contrast of the test crop, through JPEG quality 85
    saved = np.asarray(Image.open(out / 'contrast' / '3' / 'stripes' / 'stripes_0000.JPEG')).astype(float)
    assert np.abs(saved - corruptions.contrast(crops[1], 3, None)).mean() < 2.0


def test_demo_imagenet_r_has_imagenet_r_layout_of_renditions_of_a_subset_of_classes(demo_root):
    out = demo_root / 'imagenet-r'
    count = imagenet_r.make_imagenet_r(str(out), seed=0)
    per_class = imagenet.SPLIT_SIZES['val']
    assert count == len(imagenet_r.CLASSES) * len(imagenet_r.STYLES) * per_class
    assert sorted(os.listdir(out)) == sorted(imagenet_r.CLASSES)
    for cls in imagenet_r.CLASSES:
        expected = sorted(f'{style}_{i}.jpg' for style in imagenet_r.STYLES for i in range(per_class))
        assert sorted(os.listdir(out / cls)) == expected
    val = demo_root / 'imagenet' / 'val' / 'disks' / 'disks_0000.JPEG'
    clean = np.asarray(Image.open(val)).astype(float)
    for style in imagenet_r.STYLES:
        with Image.open(out / 'disks' / f'{style}_0.jpg') as img:
            assert img.format == 'JPEG' and img.mode == 'RGB' and img.size == (96, 96)
            rendition = np.asarray(img).astype(float)
        assert np.abs(rendition - clean).mean() > 5, style  # a rendition, not a copy
    sketch = np.asarray(Image.open(out / 'disks' / 'sketch_0.jpg')).astype(float)
    assert np.abs(sketch - sketch.mean(axis=2, keepdims=True)).max() < 8  # grey


def test_both_sets_refuse_to_start_without_the_demo_imagenet(tmp_path):
    for make_set in (imagenet_c.make_imagenet_c, imagenet_r.make_imagenet_r):
        with pytest.raises(FileNotFoundError, match='no demo ImageNet val set'):
            make_set(osp.join(str(tmp_path), 'set'), 0)
