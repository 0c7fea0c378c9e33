"""The pretraining data config reads ImageNet in the folder layout and in the annotation-file layout."""
import os

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
from PIL import Image

import mae_mm  # noqa: F401
from mae_mm.registry import DATASETS

from conftest import ROOT

CONFIG = os.path.join(ROOT, 'configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py')
WNIDS = [f'n{i:08d}' for i in range(len(IMAGENET_CATEGORIES))]


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mae_mm')
    yield
    DefaultScope._instance_dict.clear()


def write_jpeg(path, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(path)


def build_train_set(data_root):
    cfg = Config.fromfile(CONFIG)
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = str(data_root)
    return DATASETS.build(dataset)


def test_folder_layout(tmp_path):
    for wnid in WNIDS:
        os.makedirs(tmp_path / 'train' / wnid)
    write_jpeg(str(tmp_path / 'train' / WNIDS[0] / 'a.JPEG'), 0)
    write_jpeg(str(tmp_path / 'train' / WNIDS[999] / 'b.JPEG'), 1)
    dataset = build_train_set(tmp_path)
    assert len(dataset) == 2
    assert [dataset.get_data_info(i)['gt_label'] for i in range(2)] == [0, 999]
    sample = dataset[1]
    assert tuple(sample['inputs'].shape) == (3, 224, 224)  # RandomResizedCrop(224) from a 50 x 40 image


def test_annotation_file_layout(tmp_path):
    write_jpeg(str(tmp_path / 'train' / 'x' / 'one.JPEG'), 2)
    write_jpeg(str(tmp_path / 'train' / 'y' / 'two.JPEG'), 3)
    os.makedirs(tmp_path / 'meta')
    (tmp_path / 'meta' / 'train.txt').write_text('x/one.JPEG 5\ny/two.JPEG 7\n')
    dataset = build_train_set(tmp_path)
    assert len(dataset) == 2
    assert [dataset.get_data_info(i)['gt_label'] for i in range(2)] == [5, 7]
    assert dataset.get_data_info(0)['img_path'].endswith(os.path.join('train', 'x', 'one.JPEG'))
    assert tuple(dataset[0]['inputs'].shape) == (3, 224, 224)
