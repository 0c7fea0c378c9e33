"""Awkward annotations, handled as mmdet and mmseg intend.

COCO (the demo Mask R-CNN config's dataset and pipeline on a tiny COCO made here): images
without objects are filtered out of training, zero-area boxes are dropped, crowd regions and
objects without a usable polygon become ignored instances, and one training step on what is
left gives a finite loss. ADE20K (the demo UperNet config): ignore-index pixels give no loss and
no gradient, and labels the head has no class for are refused naming the seg map, or set to
the ignore index with CheckSegLabels(on_error='ignore').
"""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope, init_default_scope
from PIL import Image

import mae_mm  # noqa: F401
from conftest import ROOT

COCO_DEMO = 'configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py'
ADE_DEMO = 'configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py'


@pytest.fixture
def scope():
    """Runs a test body in a toolbox's default scope and clears it afterwards."""
    def enter(name):
        init_default_scope(name)
    yield enter
    DefaultScope._instance_dict.clear()


# --- COCO ----------------------------------------------------------------------------------------

def _square(x, y, s):
    return [x, y, x + s, y, x + s, y + s, x, y + s]


def make_tiny_coco(root):
    """Six 128 x 128 images; returns the image ids by name. Category 1..3 = disk, triangle, square."""
    rng = np.random.default_rng(0)
    names = ['objects', 'no_objects', 'only_crowd', 'only_zero_area', 'no_polygon', 'empty_segmentation']
    images, anns = [], []

    def ann(img_id, bbox, segmentation, area, iscrowd=0, category=3):
        anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=category, bbox=bbox,
                         segmentation=segmentation, area=area, iscrowd=iscrowd))

    for i, name in enumerate(names, start=1):
        Image.fromarray(rng.integers(0, 256, (128, 128, 3), np.uint8)).save(osp.join(root, 'train2017', f'{name}.jpg'))
        images.append(dict(id=i, file_name=f'{name}.jpg', height=128, width=128))
    ids = {n: i for i, n in enumerate(names, start=1)}
    # a normal object, a zero-area box, a crowd region (RLE-free polygon form) and an empty polygon
    ann(ids['objects'], [40, 40, 40, 40], [_square(40, 40, 40)], 1600)
    ann(ids['objects'], [10, 10, 0, 30], [[10, 10, 10, 40, 10, 25]], 0)
    ann(ids['objects'], [90, 90, 30, 30], [_square(90, 90, 30)], 900, iscrowd=1)
    ann(ids['objects'], [5, 80, 30, 30], [[]], 900)
    ann(ids['only_crowd'], [20, 20, 60, 60], [_square(20, 20, 60)], 3600, iscrowd=1)
    ann(ids['only_zero_area'], [30, 30, 20, 0], [[30, 30, 50, 30, 40, 30]], 0)
    ann(ids['no_polygon'], [30, 30, 50, 50], [[1, 2, 3, 4]], 2500)  # a 2-point "polygon": unusable
    ann(ids['empty_segmentation'], [30, 30, 50, 50], [], 2500)  # no polygon list at all
    categories = [dict(id=k, name=n) for k, n in enumerate(('disk', 'triangle', 'square'), start=1)]
    with open(osp.join(root, 'annotations', 'instances_train2017.json'), 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=categories), f)
    return ids


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco')
    (root / 'train2017').mkdir()
    (root / 'annotations').mkdir()
    ids = make_tiny_coco(str(root))
    cfg = Config.fromfile(osp.join(ROOT, COCO_DEMO))
    cfg.train_dataloader.dataset.data_root = str(root) + '/'
    pipeline = cfg.train_dataloader.dataset.pipeline
    if not any(t['type'].endswith('IgnoreInstancesWithoutMask') for t in pipeline):
        # the COCO configs are wired by their owner; until then: the change they need
        pipeline.insert(1, dict(type='mae_mm.IgnoreInstancesWithoutMask'))
    return cfg, ids


def test_coco_dataset_filters_images_without_objects_and_drops_zero_area_boxes(coco, scope):
    from mmdet.registry import DATASETS
    cfg, ids = coco
    scope('mmdet')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    infos = {info['img_id']: info for info in (dataset.get_data_info(i) for i in range(len(dataset)))}
    # filter_empty_gt: an image with no annotation leaves training; one whose only box has zero
    # area stays in the list (mmdet filters on annotations, not on the usable ones) with none
    assert ids['no_objects'] not in infos
    assert infos[ids['only_zero_area']]['instances'] == []
    objects = infos[ids['objects']]['instances']
    assert [i['bbox'] for i in objects] == [[40, 40, 80, 80], [90, 90, 120, 120], [5, 80, 35, 110]]
    assert [i['ignore_flag'] for i in objects] == [0, 1, 0]  # crowd: ignored; empty polygon: next test
    assert 'mask' not in infos[ids['empty_segmentation']]['instances'][0]  # "segmentation": [] -> none


def test_coco_pipeline_ignores_crowds_and_objects_without_a_polygon(coco, scope):
    cfg, ids = coco
    scope('mmdet')
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert pipeline[2]['type'] == 'LoadAnnotations' and pipeline[2]['with_mask']
    load = Compose(pipeline[:3])  # loading, IgnoreInstancesWithoutMask, LoadAnnotations
    flags = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        flags[info['img_id']] = load(info)['gt_ignore_flags'].tolist()
        if info['img_id'] == ids['empty_segmentation']:  # mmdet alone: a bare KeyError
            with pytest.raises(KeyError, match='mask'):
                Compose([pipeline[0], pipeline[2]])(dataset.get_data_info(i))
    assert flags[ids['empty_segmentation']] == [True]
    assert flags[ids['objects']] == [False, True, True]  # normal, crowd, empty polygon -> ignored
    assert flags[ids['only_crowd']] == [True]
    assert flags[ids['no_polygon']] == [True]
    assert flags[ids['only_zero_area']] == []


def test_one_training_step_on_those_images_gives_a_finite_loss(coco, scope):
    from mmdet.registry import DATASETS, MODELS
    cfg, ids = coco
    scope('mmdet')
    torch.manual_seed(0)
    np.random.seed(0)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    samples = [dataset[i] for i in range(len(dataset))]  # FilterAnnotations may refetch: mmdet's way
    packed = {s['data_samples'].img_id: s['data_samples'] for s in samples}
    sample = packed[ids['only_crowd']]  # everything ignored: no target, one ignored instance
    assert len(sample.gt_instances) == 0 and len(sample.ignored_instances) == 1
    assert ids['no_objects'] not in packed and len(samples) == 5
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.train()
    data = model.data_preprocessor(pseudo_collate(samples), True)
    losses = model(**data, mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total), {k: v for k, v in losses.items()}
    total.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


# --- ADE20K --------------------------------------------------------------------------------------

def ade_pipeline(on_error=None):
    cfg = Config.fromfile(osp.join(ROOT, ADE_DEMO))
    pipeline = [dict(t) for t in cfg.train_pipeline]
    check = next(t for t in pipeline if t['type'].endswith('CheckSegLabels'))
    assert pipeline.index(check) == 2 and check['num_classes'] == cfg.model.decode_head.num_classes
    if on_error:
        check['on_error'] = on_error
    init_default_scope('mmseg')
    try:
        return Compose(pipeline[:3]), Compose(pipeline[3:])
    finally:
        DefaultScope._instance_dict.clear()


def ade_sample(tmp_path, labels):
    """A 32 x 48 photo and its stored label map (ADE20K convention: 0 = other, k + 1 = class k)."""
    img, seg = tmp_path / 'a.jpg', tmp_path / 'a.png'
    Image.fromarray(np.full((32, 48, 3), 120, np.uint8)).save(img)
    Image.fromarray(labels.astype(np.uint8)).save(seg)
    return dict(img_path=str(img), seg_map_path=str(seg), reduce_zero_label=True, seg_fields=[])


def stored_labels():
    labels = np.zeros((32, 48), np.uint8)  # 0: other -> 255 after reduce_zero_label
    labels[:, 8:16], labels[:, 16:24], labels[:, 24:32] = 1, 4, 9  # 9 -> 8: no such class of 4
    labels[:, 32:40] = 255  # stored 255 -> 254 -> 255 (mmseg keeps it ignored)
    labels[:, 40:] = 7  # -> 6: no such class
    return labels


def test_out_of_range_labels_are_refused_naming_the_seg_map(tmp_path):
    load, _ = ade_pipeline()
    sample = ade_sample(tmp_path, stored_labels())
    with pytest.raises(ValueError, match=r'a\.png: labels \[6, 8\] at 512 pixels are outside \[0, 4\)'):
        load(sample)
    good = stored_labels()
    good[good > 5] = 2
    assert set(np.unique(load(ade_sample(tmp_path, good))['gt_seg_map'])) == {0, 1, 3, 255}


def test_out_of_range_labels_can_be_ignored_instead(tmp_path):
    load, augment = ade_pipeline(on_error='ignore')
    out = load(ade_sample(tmp_path, stored_labels()))
    seg = out['gt_seg_map']
    assert set(np.unique(seg)) == {0, 3, 255}
    assert (seg[:, :8] == 255).all() and (seg[:, 8:16] == 0).all() and (seg[:, 16:24] == 3).all()
    assert (seg[:, 24:] == 255).all()  # 8 -> 255, the stored 255 stays 255, 6 -> 255
    packed = augment(out)  # the rest of the train pipeline runs on it
    assert set(np.unique(packed['data_samples'].gt_sem_seg.data.numpy())) <= {0, 3, 255}


def test_out_of_range_labels_without_the_check_fail_deep_in_the_loss():
    """Why CheckSegLabels exists: mmseg's cross-entropy on CPU (a device assert on CUDA)."""
    head, samples, logits = _decode_head_and_batch(np.full((1, 16, 16), 6, np.uint8))
    with pytest.raises(IndexError, match='out of bounds'):
        head.loss_by_feat(logits, samples)


def _decode_head_and_batch(labels):
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    cfg = Config.fromfile(osp.join(ROOT, ADE_DEMO))
    init_default_scope('mmseg')
    try:
        head = MODELS.build(cfg.model.decode_head)
    finally:
        DefaultScope._instance_dict.clear()
    samples = []
    for seg in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(seg[None].astype(np.int64)))
        samples.append(sample)
    logits = torch.randn(len(labels), cfg.model.decode_head.num_classes, *labels.shape[1:], requires_grad=True)
    return head, samples, logits


def test_ignore_index_pixels_give_no_loss_and_no_gradient():
    torch.manual_seed(0)
    labels = np.random.default_rng(0).integers(0, 4, (2, 16, 16)).astype(np.uint8)
    labels[:, :, :6] = 255
    head, samples, logits = _decode_head_and_batch(labels)
    assert head.ignore_index == 255  # what loss_by_feat passes to the cross-entropy
    loss = head.loss_by_feat(logits, samples)['loss_ce']
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert (logits.grad[..., :6] == 0).all() and (logits.grad[..., 6:].abs().sum(1) > 0).all()
    changed = logits.detach().clone()
    changed[..., :6] = torch.randn_like(changed[..., :6]) * 100  # whatever is predicted there
    assert torch.equal(head.loss_by_feat(changed, samples)['loss_ce'], loss.detach())
    everything_ignored = np.full_like(labels, 255)
    assert head.loss_by_feat(logits, _decode_head_and_batch(everything_ignored)[1])['loss_ce'] == 0
