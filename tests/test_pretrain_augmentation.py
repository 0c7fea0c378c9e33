"""Table 1e's pretraining augmentations as selectable pipelines, run on a demo image; the GPU decode
path refuses those it cannot do when the run is prepared, before anything is built."""
import glob
import os.path as osp
import signal

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
from mae_mm.launch.config_checks import check_gpu_decode_pipeline
from mae_mm.launch.prepare import RunRequest, prepare_run

from conftest import ROOT

PRETRAIN = osp.join(ROOT, 'configs', 'pretrain')
RRC = osp.join(PRETRAIN, 'mae_vit-large-p16_8xb512-amp-coslr-800e_in1k.py')  # Table 1e's default
VARIANTS = {tag: osp.join(PRETRAIN, f'mae_vit-large-p16_8xb512-amp-aug-{tag}-coslr-800e_in1k.py')
            for tag in ('none', 'fixedcrop', 'rrcjitter')}
GPU_DECODE = osp.join(PRETRAIN, 'mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py')
DRAWS = 24


@pytest.fixture(autouse=True)
def _clear_scope():
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGUSR1)}
    yield
    DefaultScope._instance_dict.clear()
    for sig, handler in handlers.items():  # prepare_run catches the preemption signals from the start
        signal.signal(sig, handler)


@pytest.fixture(scope='module')
def demo_image(demo_data):
    return sorted(glob.glob(osp.join(demo_data, 'imagenet', 'train', '*', '*.JPEG')))[0]


def pipeline_of(path, transforms=None):
    cfg = Config.fromfile(path)
    init_default_scope('mae_mm')
    steps = cfg.train_dataloader.dataset.pipeline
    assert steps == cfg.train_pipeline, 'the loader runs the pipeline the config names'
    return Compose(transforms or steps), steps


def draws(pipeline, image, n=DRAWS):
    """n runs from seeds 0..n-1: the packed (3, H, W) uint8 images and whether each was flipped."""
    out = []
    for seed in range(n):
        np.random.seed(seed)
        torch.manual_seed(seed)  # torchvision's jitter draws from torch
        packed = pipeline(dict(img_path=image))
        out.append((packed['inputs'].numpy(), bool(packed['data_samples'].metainfo.get('flip', False))))
    return out


def resized(image):
    """The image resized as the evaluation does (short side 256, bicubic), (H, W, 3) BGR."""
    return Compose(Config.fromfile(RRC).test_pipeline[:2])(dict(img_path=image))['img']


@pytest.mark.parametrize('tag', ['rrc', 'none', 'fixedcrop', 'rrcjitter'])
def test_each_variant_gives_224_crops_and_flips_but_none(tag, demo_image):
    pipeline, steps = pipeline_of(RRC if tag == 'rrc' else VARIANTS[tag])
    runs = draws(pipeline, demo_image)
    assert all(img.shape == (3, 224, 224) and img.dtype == np.uint8 for img, _ in runs)
    flips = [step for step in steps if step.type == 'RandomFlip']
    if tag == 'none':  # "only center-crop, no flipping": the evaluation's resize and crop, the same every time
        assert not flips and not any(flipped for _, flipped in runs)
        assert steps[1:] == Config.fromfile(RRC).test_pipeline[1:]
        assert all(np.array_equal(img, runs[0][0]) for img, _ in runs)
        return
    assert [(f.prob, f.get('direction', 'horizontal')) for f in flips] == [(0.5, 'horizontal')]
    assert {flipped for _, flipped in runs} == {True, False}


def test_the_fixed_size_crop_is_a_224_window_of_the_resized_image(demo_image):
    pipeline, _ = pipeline_of(VARIANTS['fixedcrop'])
    big = resized(demo_image).transpose(2, 0, 1)  # (3, H, W), short side 256
    offsets = set()
    for img, flipped in draws(pipeline, demo_image):
        img = img[..., ::-1] if flipped else img
        corners = np.argwhere((big[:, :-223, :-223] == img[:, :1, :1]).all(0))  # candidate offsets (y, x)
        found = [(y, x) for y, x in corners if np.array_equal(big[:, y:y + 224, x:x + 224], img)]
        assert found, 'not a window of the resized image'
        offsets.add(found[0])
    assert len(offsets) > 1, 'the crop moves'


def test_colour_jitter_is_mocov3s_on_top_of_the_same_crops_and_flips(demo_image):
    jitter, steps = pipeline_of(VARIANTS['rrcjitter'])
    plain, _ = pipeline_of(RRC)
    apply = steps[2]
    assert (apply.type, apply.prob) == ('RandomApply', 0.8)
    to_pil, jitter_step, to_numpy = apply.transforms
    assert jitter_step == dict(type='mmpretrain.torchvision/ColorJitter', brightness=0.4, contrast=0.4,
                               saturation=0.2, hue=0.1)
    assert (to_pil.to_rgb, to_numpy.to_bgr) == (True, True)  # torchvision's jitter on the RGB image
    jittered = draws(jitter, demo_image)
    reference = draws(plain, demo_image)  # the same seeds: the same boxes and flips, drawn before the jitter
    assert [f for _, f in jittered] == [f for _, f in reference]
    changed = sum(not np.array_equal(a, b) for (a, _), (b, _) in zip(jittered, reference))
    assert 0.5 * DRAWS <= changed < DRAWS, changed  # about 0.8 of them (seeds 0-23)


def test_the_gpu_decode_path_refuses_the_variants_it_cannot_do_at_launch():
    check_gpu_decode_pipeline(Config.fromfile(GPU_DECODE))  # its own pipeline passes
    for path in [RRC, *VARIANTS.values()]:
        check_gpu_decode_pipeline(Config.fromfile(path))  # CPU decoding: nothing to check
    refused = dict(none=['LoadCheckedImage', 'mmpretrain.ResizeEdge', 'mmpretrain.CenterCrop'],
                   fixedcrop=['mmpretrain.RandomCrop', 'RandomFlip'], rrcjitter=['RandomApply'])
    for tag, names in refused.items():
        pipeline = Config.fromfile(VARIANTS[tag]).train_pipeline
        request = RunRequest(config=GPU_DECODE, cfg_options={'train_dataloader.dataset.pipeline': pipeline})
        # prepare_run, as tools/train.py: refused before the data paths (absent here) are checked
        with pytest.raises(ValueError, match='GPU decode path') as err:
            prepare_run(request)
        for name in names:
            assert f': {name}\n' in str(err.value) + '\n', (tag, name, str(err.value))
        assert 'train_dataloader.dataset.pipeline[1]' in str(err.value)
        assert 'colour jitter' in str(err.value) and 'without gpudecode' in str(err.value)
