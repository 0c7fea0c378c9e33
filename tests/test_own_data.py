"""Your own data (mae_mm/own_data, mae_mm/datasets/image_folder.py): every task family reads a
user's folder through ``--data-root`` or ``own_data``/``data_root`` in a config, on data this test
generates (mae_mm/demo_data/own_data.py): pretraining on flat, nested and class folders, the
refusals, classification/detection/segmentation sized from the data, and a suite end to end."""
import hashlib
import json
import os
import os.path as osp
import shutil

import pytest
from mmengine.config import Config
from reliability_utils import run

from mae_mm.demo_data.own_data import make_own_data
from mae_mm.launch.prepare import RunRequest, prepare_run
from mae_mm.launch.train import main as train_main
from mae_mm.own_data import OwnDataError
from mae_mm.own_data.scan import scan_folder
from mae_mm.own_data.split import path_fraction, split_paths

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_PRETRAIN = 'configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'
OWN_PRETRAIN = 'configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-own-data-pretrain.py'
DEMO_FINETUNE = 'configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py'
DEMO_COCO = 'configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py'
DEMO_ADE = 'configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py'
# two epochs of warmup-free cosine at batch 8: a few iterations of the demo pretraining
SHORT_PRETRAIN = ['train_dataloader.batch_size=8', 'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
                  'param_scheduler.0.end=1', 'param_scheduler.1.begin=1']


@pytest.fixture(scope='module')
def own(tmp_path_factory):
    """The example layouts: {'photos', 'photos-nested', 'classification', 'coco', 'segmentation'}."""
    return make_own_data(str(tmp_path_factory.mktemp('own')))


@pytest.fixture(scope='module')
def own_pretrain(own, tmp_path_factory):
    """The demo pretraining on the flat folder of mixed formats, a quarter held out, through
    tools/train.py; returns (work dir, its stdout + stderr)."""
    work = str(tmp_path_factory.mktemp('own_pretrain'))
    proc = run('tools/train.py', OWN_PRETRAIN, '--data-root', own['photos'], '--work-dir', work,
               '--cfg-options', *SHORT_PRETRAIN, threads=1)
    return work, proc.stdout + proc.stderr


def prepared(config, data_root=None, **options):
    return prepare_run(RunRequest(config=osp.join(ROOT, config), data_root=data_root, cfg_options=options))


# ---------------------------------------------------------------- the folder and its held-out share

def test_scan_finds_images_in_any_case_and_skips_the_rest(own):
    flat = scan_folder(own['photos'])
    assert len(flat.images) == 48
    assert flat.image_kinds == {'.jpg': 8, '.jpeg': 8, '.png': 8, '.bmp': 4, '.ppm': 4, '.pgm': 4, '.tif': 4,
                                '.tiff': 4, '.webp': 4}  # .JPG, .JPEG, .PNG, .TIFF counted with their kind
    assert sorted(flat.others) == ['.DS_Store', 'Thumbs.db', 'notes.txt']
    nested = scan_folder(own['photos-nested'])
    assert len(nested.images) == 24 and nested.others == [osp.join('site_a', 'readme.txt')]
    assert {p.count(os.sep) for p in nested.images} == {1, 2, 3}


def test_held_out_share_is_a_hash_of_each_path():
    names = [f'site_{i % 7}/img_{i:05d}.jpg' for i in range(4000)]
    expected = int.from_bytes(hashlib.sha1(names[0].encode()).digest()[:8], 'big') / 2 ** 64
    assert path_fraction(names[0]) == expected and path_fraction('a\\b.jpg') == path_fraction('a/b.jpg')
    val, train = split_paths(names, 'val', 0.1), split_paths(names, 'train', 0.1)
    assert val == [p for p in names if path_fraction(p) < 0.1]  # the same on every run, rank and machine
    assert set(val).isdisjoint(train) and len(val) + len(train) == len(names)
    assert abs(len(val) - 400) < 3 * (4000 * 0.1 * 0.9) ** 0.5  # binomial(4000, 0.1)
    # a file added later moves no other file between the shares
    assert split_paths(names + ['new.jpg'], 'val', 0.1)[:len(val)] == val
    assert split_paths(names, 'val', 0.0) == [] and split_paths(names, 'all', 0.3) == names
    with pytest.raises(ValueError, match='split must be one of'):
        split_paths(names, 'test', 0.1)


def test_image_folder_reads_every_image_of_any_layout(own, tmp_path):
    from mae_mm.datasets.image_folder import ImageFolder

    hidden = tmp_path / 'photos'
    shutil.copytree(own['photos'], hidden)
    (hidden / '.thumbnails').mkdir()
    shutil.copy(hidden / 'img_000.jpg', hidden / '.thumbnails' / 'img_000.jpg')
    flat = ImageFolder(data_root=str(hidden), split='all', pipeline=[])
    assert len(flat) == 48 and not any('.thumbnails' in s['img_path'] for s in flat)
    val = ImageFolder(data_root=str(hidden), split='val', val_fraction=0.25, pipeline=[])
    train = ImageFolder(data_root=str(hidden), split='train', val_fraction=0.25, pipeline=[])
    assert len(val) + len(train) == 48 and 0 < len(val) < 24
    assert {s['img_path'] for s in val}.isdisjoint(s['img_path'] for s in train)
    assert len(ImageFolder(data_root=own['photos-nested'], pipeline=[])) == 24
    labelled = ImageFolder(data_root=osp.join(own['classification'], 'train'), pipeline=[])
    assert len(labelled) == 72 and 'gt_label' not in labelled[0]


# ---------------------------------------------------------------- pretraining on a folder

def test_flat_folder_of_mixed_formats_pretrains_with_a_held_out_share(own_pretrain):
    work, output = own_pretrain
    assert 'own data: ' in output and ': 48 images (' in output and 'to train on, ' in output
    assert '3 files that are not images skipped (' in output
    assert osp.isfile(osp.join(work, 'epoch_2.pth'))
    cfg_dump = open(osp.join(work, osp.basename(OWN_PRETRAIN))).read()
    assert "type='mae_mm.ImageFolder'" in cfg_dump and 'KNNProbeHook' not in cfg_dump
    records = [json.loads(line) for dp, _, fs in os.walk(work) for f in fs if f == 'scalars.json'
               for line in open(osp.join(dp, f))]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert len(losses) >= 2 and all(0 < x < 10 for x in losses)
    assert any('recon/mse' in r for r in records)  # validated on the held-out quarter


@pytest.mark.slow
@pytest.mark.parametrize('layout', ['photos-nested', 'classification'])
def test_nested_and_class_folders_pretrain_through_the_demo_config(own, layout, tmp_path):
    root = own[layout]
    proc = run('tools/train.py', DEMO_PRETRAIN, '--data-root', root, '--work-dir', str(tmp_path),
               '--cfg-options', *SHORT_PRETRAIN, threads=1)
    images = 24 if layout == 'photos-nested' else 96  # classification: train and val, labels ignored
    assert f': {images} images (' in proc.stdout + proc.stderr
    assert osp.isfile(tmp_path / 'epoch_2.pth')


@pytest.mark.parametrize('content', ['nothing', 'text', 'gif'])
def test_a_folder_without_images_is_refused_in_one_line(content, tmp_path, capsys):
    folder = tmp_path / 'data'
    folder.mkdir()
    for i in range(3):
        if content == 'text':
            (folder / f'note{i}.txt').write_text('x')
        elif content == 'gif':
            (folder / f'anim{i}.GIF').write_bytes(b'GIF89a')
    assert train_main([DEMO_PRETRAIN, '--data-root', str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'Traceback' not in err
    assert err.startswith(f'tools/train.py: --data-root {folder} holds no image (')
    assert 'pretraining reads every image under DIR' in err and 'in any case' in err
    found = {'nothing': 'no file at all', 'text': '3 files: .txt 3 (note0.txt', 'gif': '3 files: .gif 3 (anim0.GIF'}
    assert found[content] in err


def test_a_missing_folder_is_refused_in_one_line(tmp_path, capsys):
    assert train_main([DEMO_PRETRAIN, '--data-root', str(tmp_path / 'nope')]) == 2
    assert capsys.readouterr().err.strip() == (f'tools/train.py: --data-root {tmp_path / "nope"} does not exist; '
                                               'pretraining reads every image under DIR, at any depth: DIR/*.jpg, '
                                               'DIR/any/sub/folders/*.png, or DIR/<class>/*.jpg (labels ignored)')


@pytest.mark.parametrize('config', sorted(f'configs/pretrain/{f}' for f in os.listdir(osp.join(ROOT, 'configs', 'pretrain'))))
def test_every_pretraining_config_reads_a_folder(config, own):
    cfg = prepared(config, own['photos'], **{'train_dataloader.batch_size': 8})
    dataset = cfg.train_dataloader.dataset
    assert (dataset.type, dataset.data_root, dataset.split) == ('mae_mm.ImageFolder', own['photos'], 'all')
    assert dataset.pipeline == Config.fromfile(osp.join(ROOT, config)).train_dataloader.dataset.pipeline  # the recipe's
    assert cfg.get('val_dataloader') is None and cfg.test_dataloader.dataset.split == 'all'


def test_fewer_images_than_one_batch_are_refused(own):
    with pytest.raises(OwnDataError, match=r'48 training images, fewer than one batch of 512 '
                                           r'\(train_dataloader.batch_size=512 x 1 process'):
        prepared('configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py', own['photos'])
    with pytest.raises(OwnDataError, match='val_fraction=0.001 of 48 images holds out none'):
        prepared(DEMO_PRETRAIN, own['photos'], own_data=dict(val_fraction=0.001))
    with pytest.raises(OwnDataError, match=r'own_data.val_fraction must be a number in \[0, 1\)'):
        prepared(DEMO_PRETRAIN, own['photos'], own_data=dict(val_fraction=1.5))


def test_own_data_config_needs_a_folder_and_known_options(own):
    leaf = 'configs/own_data/vit-base-p16_8xb128-coslr-100e_own-data.py'
    with pytest.raises(OwnDataError, match='reads your own data \\(classification\\): give --data-root DIR'):
        prepared(leaf)
    with pytest.raises(OwnDataError, match="own_data has unknown keys \\['val_fracton'\\]"):
        prepared(DEMO_PRETRAIN, own['photos'], own_data=dict(val_fracton=0.1))
    with pytest.raises(OwnDataError, match='own_data.val_fraction is an option of pretrain, not of classification'):
        prepared(leaf, own['classification'], own_data=dict(val_fraction=0.1))
    # data_root given in a config (here as an option) works as --data-root does
    cfg = prepared(leaf, **{'data_root': own['classification'], 'train_dataloader.batch_size': 8})
    assert cfg.model.head.num_classes == 3


# ---------------------------------------------------------------- the transfer families

def test_classification_follows_the_class_folders(own, tmp_path):
    cfg = prepared('configs/own_data/vit-base-p16_8xb128-coslr-100e_own-data.py', own['classification'],
                   **{'train_dataloader.batch_size': 8})
    assert cfg.model.head.num_classes == cfg.model.data_preprocessor.num_classes == 3
    assert cfg.val_evaluator.topk == cfg.test_evaluator.topk == (1,)
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        dataset = cfg[loader].dataset
        assert (dataset.type, dataset.data_prefix, dataset.classes, dataset.with_label) == \
            ('mae_mm.ImageFolder', split, ('checkers', 'disks', 'stripes'), True)
    # hidden folders and files (a notebook's checkpoints, macOS's ._ companions) and other files are no classes
    # and no images: the data set holds the 72 training images, labelled by their folder's index
    messy = tmp_path / 'messy'
    shutil.copytree(own['classification'], messy)
    for split in ('train', 'val'):
        (messy / split / '.ipynb_checkpoints').mkdir()
        (messy / split / 'disks' / '._disks_000.jpg').write_bytes(b'\0\5\26\7')
        (messy / split / 'disks' / 'notes.txt').write_text('x')
        (messy / split / 'disks' / '.thumbnails').mkdir()
        shutil.copy(messy / split / 'disks' / 'disks_000.jpg', messy / split / 'disks' / '.thumbnails')
    cfg = prepared(DEMO_FINETUNE, str(messy))
    from mmengine.registry import DATASETS
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    labels = [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]
    assert len(dataset) == 72 and sorted(set(labels)) == [0, 1, 2] and labels.count(1) == 24
    assert all('disks' in dataset.get_data_info(i)['img_path'] for i in range(len(dataset)) if labels[i] == 1)
    assert dataset.metainfo['classes'] == ('checkers', 'disks', 'stripes')
    # five classes: top-5 as well; the linear probe's head too
    five = tmp_path / 'five'
    for split in ('train', 'val'):
        for i, name in enumerate(('checkers', 'disks', 'stripes', 'more_disks', 'more_stripes')):
            shutil.copytree(osp.join(own['classification'], split, ('checkers', 'disks', 'stripes')[i % 3]),
                            five / split / name)
    probe = prepared('configs/own_data/vit-base-p16_8xb2048-linprobe-coslr-90e_own-data.py', str(five),
                     **{'train_dataloader.batch_size': 8})
    assert probe.model.head.num_classes == 5 and probe.val_evaluator.topk == (1, 5)


def test_classification_refuses_train_and_val_that_differ(own, tmp_path):
    bad = tmp_path / 'bad'
    shutil.copytree(own['classification'], bad)
    os.rename(bad / 'val' / 'stripes', bad / 'val' / 'stripe')
    with pytest.raises(OwnDataError, match='train and val name different classes '
                                           r'\(only in train: stripes; only in val: stripe\)'):
        prepared('configs/own_data/vit-base-p16_8xb128-coslr-100e_own-data.py', str(bad))
    shutil.rmtree(bad / 'val')
    with pytest.raises(OwnDataError, match='the val folder .*/val does not exist'):
        prepared(DEMO_FINETUNE, str(bad))


def test_detection_takes_its_classes_from_the_categories(own, tmp_path):
    cfg = prepared('configs/own_data/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_own-data.py', own['coco'])
    assert cfg.model.roi_head.bbox_head.num_classes == cfg.model.roi_head.mask_head.num_classes == 2
    train, test = cfg.train_dataloader.dataset, cfg.test_dataloader.dataset
    assert (train.ann_file, train.data_prefix.img, train.metainfo.classes) == ('annotations/train.json', 'train/',
                                                                             ('disk', 'square'))
    assert (test.ann_file, test.data_prefix.img) == ('annotations/val.json', 'val/')
    assert cfg.test_evaluator.ann_file == osp.join(own['coco'], 'annotations', 'val.json')
    assert cfg.test_evaluator.classwise
    # 100 passes over 24 images at batch 4: 600 iterations, the schedule's milestones follow them
    assert cfg.train_cfg.max_iters == 600 and cfg.train_cfg.val_interval == 600
    bad = tmp_path / 'coco'
    shutil.copytree(own['coco'], bad)
    val = json.loads((bad / 'annotations' / 'val.json').read_text())
    val['categories'][1]['name'] = 'box'
    (bad / 'annotations' / 'val.json').write_text(json.dumps(val))
    with pytest.raises(OwnDataError, match=r"list different categories \(train: \['disk', 'square'\]; "
                                           r"val: \['disk', 'box'\]\)"):
        prepared(DEMO_COCO, str(bad))


def test_segmentation_takes_its_classes_from_the_list(own, tmp_path):
    cfg = prepared('configs/own_data/upernet_vit-base-p16_8xb2-amp-160k_own-data-512x512.py', own['segmentation'])
    assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == 3
    for loader, split in (('train_dataloader', 'train'), ('test_dataloader', 'val')):
        dataset = cfg[loader].dataset
        assert dataset.metainfo.classes == ('background', 'disk', 'stripes') and not dataset.reduce_zero_label
        assert dataset.data_prefix == dict(img_path=f'images/{split}', seg_map_path=f'annotations/{split}')
        steps = {s.type.rsplit('.', 1)[-1]: s for s in dataset.pipeline}
        assert steps['LoadAnnotations'].reduce_zero_label is False
    assert {s.type: s for s in cfg.train_dataloader.dataset.pipeline}['mae_mm.CheckSegLabels'].num_classes == 3
    bad = tmp_path / 'seg'
    shutil.copytree(own['segmentation'], bad)
    os.remove(bad / 'annotations' / 'val' / sorted(os.listdir(bad / 'annotations' / 'val'))[0])
    with pytest.raises(OwnDataError, match=r'1 of 8 images in images/val have no label map'):
        prepared(DEMO_ADE, str(bad))
    os.remove(bad / 'classes.txt')
    with pytest.raises(OwnDataError, match='no class list: .*classes.txt does not exist'):
        prepared(DEMO_ADE, str(bad))


# ---------------------------------------------------------------- a suite on own data, end to end

def own_suite(tmp_path, base, own, layouts, extra=''):
    """A suite file over configs/suites/``base`` with each stage's data_root at ``own[layout]``."""
    suite = tmp_path / 'suite.py'
    suite.write_text(f"_base_ = {osp.join(ROOT, 'configs', 'suites', base)!r}\n" + 'stages = dict(' + ', '.join(
        f'{stage}=dict(data_root={own[layout]!r}{extra if stage == "finetune" else ""})'
        for stage, layout in layouts) + ')\n')
    return str(suite)


EVERY_LAYOUT = (('pretrain', 'photos'), ('finetune', 'classification'), ('detection', 'coco'),
                ('segmentation', 'segmentation'))


def test_own_data_suites_name_own_data_configs_and_existing_folders(own, tmp_path):
    from mae_mm.suite.errors import SuiteError
    from mae_mm.suite.plan.suite import load_suite

    layouts = EVERY_LAYOUT + (('linprobe', 'classification'),)
    suite = load_suite(own_suite(tmp_path, 'vit-base-own-data.py', own, layouts), ROOT)
    assert list(suite['stages']) == ['pretrain', 'finetune', 'linprobe', 'detection', 'segmentation']
    assert all('configs/own_data/' in s['config'] and 'vit-base-p16' in s['config'] for s in suite['stages'].values())
    assert suite['stages']['detection']['data_root'] == own['coco'] and suite['stages']['detection']['gpus'] == 16
    with pytest.raises(SuiteError, match=r'stages.finetune.data_root is not a folder'):
        load_suite(own_suite(tmp_path, 'vit-base-own-data.py', dict(own, classification=str(tmp_path / 'no')),
                             layouts), ROOT)
    with pytest.raises(SuiteError, match=r'stages.finetune.data_root is set but its config .* has no own_data block'):
        load_suite(own_suite(tmp_path, 'vit-base-own-data.py', own, layouts,
                             extra=", config='configs/finetune/vit-base-p16_8xb128-coslr-100e_in1k.py'"), ROOT)


@pytest.mark.slow
def test_own_data_suite_ends_in_the_results_table(own, own_pretrain, tmp_path):
    suite = own_suite(tmp_path, 'demo-own-data.py', own, EVERY_LAYOUT)
    work = tmp_path / 'work'
    checkpoint = osp.join(own_pretrain[0], 'epoch_2.pth')
    proc = run('tools/transfer.py', checkpoint, '--suite', suite, '--work-dir', str(work), threads=1,
               timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.load(open(work / 'results.json'))
    assert set(results) >= {'pretrain', 'finetune', 'detection', 'segmentation'}
    assert 0 < results['pretrain']['loss'] < 10 and 0 <= results['finetune']['top1'] <= 100
    table = open(work / 'results.md').read()
    assert 'fine-tune' in table and 'detection' in table and 'segmentation' in table
    metrics = {stage: json.load(open(work / stage / 'metrics.json')) for stage in ('finetune', 'detection')}
    assert 'accuracy/top1' in metrics['finetune'] and 'accuracy/top5' not in metrics['finetune']  # 3 classes
    assert {'coco/disk_precision', 'coco/square_precision'} <= set(metrics['detection'])  # the 2 categories
