"""Classification transfer (the MAE paper's Table 6): the iNaturalist and Places data sets in their
published layouts, the fifteen fine-tune configs, and a short run of the demo iNat 2019 config."""
import glob
import json
import math
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope, init_default_scope

from mae_mm.datasets.inaturalist import INaturalist
from mae_mm.datasets.places365 import Places365
from mae_mm.demo_data import inat as demo_inat

from conftest import ROOT, read_scalars

FINETUNE = osp.join(ROOT, 'configs', 'finetune')
DEMO_INAT = osp.join(ROOT, 'configs', 'demo', 'vit-tiny-p8_1xb32-coslr-10e_demo-inat2019-finetune.py')
# data set -> (classes, train images, the paper's Table 6 top-1 for ViT-B / L / H)
PUBLISHED = {'inat2017': (5089, 579184, (70.5, 75.7, 79.3)), 'inat2018': (8142, 437513, (75.4, 80.1, 83.0)),
             'inat2019': (1010, 265213, (80.5, 83.4, 85.7)), 'places205': (205, 2448873, (63.9, 65.8, 65.9)),
             'places365': (365, 1803460, (57.9, 59.4, 59.8))}
SIZES = {'base-p16': ('vit-base-p16_8xb128-coslr-100e_in1k.py', 0),
         'large-p16': ('vit-large-p16_8xb128-coslr-50e_in1k.py', 1),
         'huge-p14': ('vit-huge-p14_8xb128-coslr-50e_in1k.py', 2)}
LEAVES = sorted(p for p in glob.glob(osp.join(FINETUNE, '*.py')) if re.search(r'_(inat20\d\d|places\d+)\.py$', p))


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def write_json(path, images, annotations, categories):
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return str(path)


def images(*ids):
    return [dict(id=i, file_name=f'train_val2019/Plants/{i % 2}/{i}.jpg') for i in ids]


# ---- iNaturalist -------------------------------------------------------------------------------------------------

def test_inat_reads_the_demo_json(demo_data):
    root = osp.join(demo_data, 'inat')
    train = INaturalist(ann_file='train2019.json', data_root=root)
    val = INaturalist(ann_file='val2019.json', data_root=root)
    assert train.metainfo['classes'] == val.metainfo['classes'] == demo_inat.CLASSES
    for split, dataset in (('train', train), ('val', val)):
        per_class = demo_inat.SPLIT_SIZES[split]
        assert len(dataset) == per_class * len(demo_inat.CLASSES)
        labels = [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]
        assert sorted(labels) == sorted(list(range(len(demo_inat.CLASSES))) * per_class)
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            assert osp.isfile(info['img_path']), info['img_path']
            # the published tree: train_val2019/<supercategory>/<category id>/<image>.jpg
            supercategory, category = info['img_path'].split(osp.sep)[-3:-1]
            assert int(category) == info['gt_label'] == dataset.get_cat_ids(i)[0]
            assert supercategory == demo_inat.SUPERCATEGORIES[demo_inat.CLASSES[info['gt_label']]]
    assert not {train.get_data_info(i)['img_path'] for i in range(len(train))} & \
        {val.get_data_info(i)['img_path'] for i in range(len(val))}


def test_inat_category_ids_other_than_0_to_n_are_mapped_in_sorted_order(tmp_path):
    cats = [dict(id=30, name='c'), dict(id=7, name='a'), dict(id=12, name='b')]
    path = write_json(tmp_path / 'train2019.json', images(1, 2, 3),
                      [dict(id=1, image_id=1, category_id=30), dict(id=2, image_id=2, category_id=7),
                       dict(id=3, image_id=3, category_id=12)], cats)
    dataset = INaturalist(ann_file=path)
    assert dataset.metainfo['classes'] == ('a', 'b', 'c')
    assert [dataset.get_data_info(i)['gt_label'] for i in range(3)] == [2, 0, 1]
    assert dataset.get_data_info(0)['img_path'].endswith('train_val2019/Plants/1/1.jpg')


@pytest.mark.parametrize('case,match', [
    ('missing file', r'val2019\.json: no such annotation file'),
    ('no categories', r"train2019\.json: no 'categories' list"),
    ('unknown image', r"train2019\.json: annotations\[1\] \(id 2\) has image_id 99, which no entry of 'images' has"),
    ('unknown category', r"train2019\.json: annotations\[1\] \(id 2\) has category_id 5, which no entry of "
                         r"'categories' has"),
    ('image without annotation', r"train2019\.json: 1 of the 'images' have no entry in 'annotations', the first id 3 "
                                 r"\(train_val2019/Plants/1/3\.jpg\)"),
    ('two annotations', r'train2019\.json: annotations\[2\] \(id 3\): image_id 1 has a second annotation'),
])
def test_inat_refuses_a_broken_json_naming_the_file_and_the_key(tmp_path, case, match):
    cats = [dict(id=0, name='a'), dict(id=1, name='b')]
    anns = [dict(id=1, image_id=1, category_id=0), dict(id=2, image_id=2, category_id=1)]
    imgs = images(1, 2)
    if case == 'missing file':
        path = str(tmp_path / 'val2019.json')
    else:
        if case == 'no categories':
            cats = None
        elif case == 'unknown image':
            anns[1]['image_id'] = 99
        elif case == 'unknown category':
            anns[1]['category_id'] = 5
        elif case == 'image without annotation':
            imgs = images(1, 2, 3)
        elif case == 'two annotations':
            anns.append(dict(id=3, image_id=1, category_id=1))
        content = dict(images=imgs, annotations=anns, categories=cats)
        path = str(tmp_path / 'train2019.json')
        with open(path, 'w') as f:
            json.dump({k: v for k, v in content.items() if v is not None}, f)
    with pytest.raises((ValueError, KeyError, FileNotFoundError), match=match):
        INaturalist(ann_file=path)


# ---- Places ------------------------------------------------------------------------------------------------------

def places365_files(root, train_lines):
    (root / 'categories_places365.txt').write_text('/a/airfield 0\n/a/apartment_building/outdoor 1\n/b/bedroom 2\n')
    (root / 'places365_train_standard.txt').write_text(''.join(f'{line}\n' for line in train_lines))
    (root / 'places365_val.txt').write_text('Places365_val_00000001.jpg 2\nPlaces365_val_00000002.jpg 0\n')


def test_places365_list_entries_with_a_leading_slash_stay_under_the_image_folder(tmp_path):
    places365_files(tmp_path, ['/a/airfield/00000001.jpg 0', '/a/apartment_building/outdoor/00000001.jpg 1',
                               '/b/bedroom/00000007.jpg 2'])
    train = Places365(ann_file='places365_train_standard.txt', data_root=str(tmp_path), data_prefix='data_large')
    assert train.metainfo['classes'] == ('airfield', 'apartment_building/outdoor', 'bedroom')
    infos = [train.get_data_info(i) for i in range(len(train))]
    assert [i['img_path'] for i in infos] == [
        osp.join(str(tmp_path), 'data_large', 'a/airfield/00000001.jpg'),
        osp.join(str(tmp_path), 'data_large', 'a/apartment_building/outdoor/00000001.jpg'),
        osp.join(str(tmp_path), 'data_large', 'b/bedroom/00000007.jpg')]
    assert [i['gt_label'] for i in infos] == [0, 1, 2]
    val = Places365(ann_file='places365_val.txt', data_root=str(tmp_path), data_prefix='val_256')
    assert [val.get_data_info(i)['img_path'] for i in range(2)] == [
        osp.join(str(tmp_path), 'val_256', f'Places365_val_0000000{k}.jpg') for k in (1, 2)]
    assert [val.get_data_info(i)['gt_label'] for i in range(2)] == [2, 0]


@pytest.mark.parametrize('line,match', [
    ('/a/airfield/00000001.jpg', r'places365_train_standard\.txt, line 2: .* is not "<path> <label>"'),
    ('/b/bedroom/00000001.jpg 3', r'places365_train_standard\.txt, line 2: label 3 is not one of the 3 categories'),
])
def test_places365_refuses_a_bad_line_naming_the_file_and_line(tmp_path, line, match):
    places365_files(tmp_path, ['/a/airfield/00000001.jpg 0', line])
    with pytest.raises(ValueError, match=match):
        Places365(ann_file='places365_train_standard.txt', data_root=str(tmp_path), data_prefix='data_large')


def test_places365_refuses_categories_out_of_order_and_a_missing_list(tmp_path):
    places365_files(tmp_path, ['/a/airfield/00000001.jpg 0'])
    with pytest.raises(FileNotFoundError, match=r'places365_test\.txt: no such file'):
        Places365(ann_file='places365_test.txt', data_root=str(tmp_path))
    (tmp_path / 'categories_places365.txt').write_text('/a/airfield 0\n/b/bedroom 2\n')
    with pytest.raises(ValueError, match=r'categories_places365\.txt, line 2: id 2 where 1 comes next'):
        Places365(ann_file='places365_train_standard.txt', data_root=str(tmp_path))


def fake_published_layout(key, root):
    """A few entries of each data set's published files under ``root``; returns the first training
    image's expected path and label, and the number of training and validation entries."""
    if key.startswith('inat'):
        year, folder = key[4:], 'train_val_images' if key == 'inat2017' else f'train_val{key[4:]}'
        cats = [dict(id=0, name='Apis mellifera'), dict(id=1, name='Bombus terrestris')]
        for split, ids in (('train', (1, 2)), ('val', (3,))):
            imgs = [dict(id=i, file_name=f'{folder}/Insecta/{i % 2}/{i}.jpg') for i in ids]
            write_json(root / f'{split}{year}.json', imgs,
                       [dict(id=i, image_id=i, category_id=i % 2) for i in ids], cats)
        return osp.join(str(root), folder, 'Insecta', '1', '1.jpg'), 1, 2, 1
    if key == 'places365':
        places365_files(root, ['/b/bedroom/00000001.jpg 2', '/a/airfield/00000001.jpg 0'])
        return osp.join(str(root), 'data_large', 'b', 'bedroom', '00000001.jpg'), 2, 2, 2
    lists = root / 'trainvalsplit_places205'
    lists.mkdir()
    (lists / 'train_places205.csv').write_text('b/bar/00000003.jpg 9\na/abbey/00000000.jpg 0\n')
    (lists / 'val_places205.csv').write_text('a/abbey/00000100.jpg 0\n')
    return osp.join(str(root), 'data/vision/torralba/deeplearning/images256', 'b', 'bar', '00000003.jpg'), 9, 2, 1


@pytest.mark.parametrize('key', sorted(PUBLISHED))
def test_each_data_set_config_reads_its_published_layout(tmp_path, key):
    """The data set dicts of configs/_base_/datasets/<key>.py, built as the fine-tune leaves build them
    (mmpretrain's scope, their custom_imports), on a few entries of the published files under tmp_path."""
    first, label, num_train, num_val = fake_published_layout(key, tmp_path)
    data = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', f'{key}.py')).transfer_data
    assert data.num_classes == PUBLISHED[key][0]
    assert data.epoch_scale == pytest.approx(1281167 / PUBLISHED[key][1])
    for module in data.imports.imports:
        __import__(module)
    init_default_scope('mmpretrain')
    train = DATASETS.build(dict(data.train, data_root=str(tmp_path)))
    val = DATASETS.build(dict(data.val, data_root=str(tmp_path)))
    assert (len(train), len(val)) == (num_train, num_val)
    assert (train.get_data_info(0)['img_path'], train.get_data_info(0)['gt_label']) == (first, label)
    if key == 'places205':  # mmpretrain's own class, with its class names
        assert type(train).__module__.startswith('mmpretrain.') and len(train.metainfo['classes']) == 205


def test_the_new_data_sets_take_no_name_a_host_toolbox_has():
    import mmpretrain.registry
    mmpretrain.registry.DATASETS.import_from_location()
    assert not {'INaturalist', 'Places365'} & set(mmpretrain.registry.DATASETS.module_dict)


# ---- the fine-tune configs -----------------------------------------------------------------------------------------

def test_there_are_fifteen_leaves_three_sizes_of_five_sets():
    found = {re.search(r'vit-(\w+-p\d+)_8xb128-coslr-\d+e_(\w+)\.py$', p).groups() for p in LEAVES}
    assert found == {(size, key) for size in SIZES for key in PUBLISHED}


@pytest.mark.parametrize('path', LEAVES, ids=osp.basename)
def test_a_leaf_is_its_sizes_imagenet_recipe_on_its_data_set_for_as_many_iterations(path):
    size, epochs, key = re.search(r'vit-(\w+-p\d+)_8xb128-coslr-(\d+)e_(\w+)\.py$', path).groups()
    classes, train_images, top1 = PUBLISHED[key]
    cfg = Config.fromfile(path)
    imagenet = Config.fromfile(osp.join(FINETUNE, SIZES[size][0]))
    # the classes, in the head and in the batch augments' one-hot targets
    assert cfg.model.head.num_classes == cfg.model.data_preprocessor.num_classes == classes
    # the length: the ImageNet run's iterations, named in the file
    assert cfg.train_cfg.max_epochs == int(epochs) == round(imagenet.train_cfg.max_epochs * 1281167 / train_images)
    # the rest of the recipe is the ImageNet one
    for part in ('optim_wrapper', 'param_scheduler', 'auto_scale_lr', 'val_evaluator', 'test_evaluator'):
        assert cfg[part] == imagenet[part], part
    assert cfg.model.backbone == imagenet.model.backbone and cfg.model.train_cfg == imagenet.model.train_cfg
    assert cfg.model.head.loss == imagenet.model.head.loss
    for loader, pipeline in (('train_dataloader', 'train_pipeline'), ('val_dataloader', 'test_pipeline'),
                             ('test_dataloader', 'test_pipeline')):
        assert cfg[loader].dataset.pipeline == imagenet[pipeline], loader
        assert {k: v for k, v in cfg[loader].items() if k != 'dataset'} == \
            {k: v for k, v in imagenet[loader].items() if k != 'dataset'}, loader
        data = cfg.transfer_data.train if loader == 'train_dataloader' else cfg.transfer_data.val
        assert {k: v for k, v in cfg[loader].dataset.items() if k != 'pipeline'} == data, loader
    # what builds them is imported
    assert 'mae_mm.runtime' in cfg.custom_imports.imports
    if cfg.train_dataloader.dataset.type.startswith('mae_mm.'):
        assert any(m.startswith('mae_mm.datasets.') for m in cfg.custom_imports.imports)
    # the header cites the paper's Table 6 number of this size
    header = open(path).read().split('\n_base_')[0]
    assert f'{top1[SIZES[size][1]]} top-1 cited (MAE paper, Table 6)' in header


# ---- the demo --------------------------------------------------------------------------------------------------

def test_demo_inat_config_classes_agree_with_its_data(demo_data):
    cfg = Config.fromfile(DEMO_INAT)
    init_default_scope(cfg.default_scope)
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=osp.join(demo_data, 'inat')))
    assert cfg.model.head.num_classes == cfg.model.data_preprocessor.num_classes == len(dataset.metainfo['classes'])
    assert cfg.train_dataloader.dataset.data_root == cfg.val_dataloader.dataset.data_root == 'data/demo/inat'


def test_demo_inat_config_trains_to_a_finite_loss_and_evaluates_top1(demo_data, tmp_path):
    """One epoch of the demo config from a fresh ViT on the demo data (a one-epoch warm-up in place of
    its three-epoch one, which a one-epoch run cannot hold); the run's end validates."""
    from mmengine.runner import Runner
    cfg = Config.fromfile(DEMO_INAT)
    root = osp.join(demo_data, 'inat')
    cfg.merge_from_dict({'model.backbone.init_cfg': None, 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
                         'default_hooks.logger.interval': 1,
                         'train_dataloader.dataset.data_root': root, 'val_dataloader.dataset.data_root': root,
                         'train_dataloader.num_workers': 0, 'val_dataloader.num_workers': 0})
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
                                convert_to_iter_based=True)]
    cfg.work_dir = str(tmp_path)
    Runner.from_cfg(cfg).train()
    records = read_scalars(str(tmp_path))
    losses = [r['loss'] for r in records if 'loss' in r]
    per_epoch = len(demo_inat.CLASSES) * demo_inat.SPLIT_SIZES['train'] // cfg.train_dataloader.batch_size
    assert len(losses) == per_epoch and all(math.isfinite(x) for x in losses)
    top1 = [r['accuracy/top1'] for r in records if 'accuracy/top1' in r]
    assert len(top1) == 1 and 0.0 <= top1[0] <= 100.0
