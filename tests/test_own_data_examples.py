"""The example "own data" (mae_mm/demo_data/own_data.py): every layout as a user's folder holds it,
read back from disk, and the same bytes from the same seed. ~2 s."""
import collections
import filecmp
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image, ImageFilter
from pycocotools.coco import COCO

from conftest import run_tool
from mae_mm.demo_data import own_data
from mae_mm.demo_data.own_data import make_own_data

NON_IMAGES = ('notes.txt', '.DS_Store', 'Thumbs.db')
FORMATS = {'.jpg': 'JPEG', '.jpeg': 'JPEG', '.png': 'PNG', '.bmp': 'BMP', '.ppm': 'PPM', '.pgm': 'PPM',
           '.tif': 'TIFF', '.tiff': 'TIFF', '.webp': 'WEBP'}


@pytest.fixture(scope='module')
def own(tmp_path_factory):
    """``{layout: folder}`` of one :func:`make_own_data` run, seed 0."""
    return make_own_data(str(tmp_path_factory.mktemp('own')), seed=0)


def files_under(root):
    """Every file under ``root``, as sorted paths relative to it."""
    return sorted(osp.relpath(osp.join(dp, f), root) for dp, _, fs in os.walk(root) for f in fs)


def png_header(path):
    """(bit depth, colour type) from a PNG's IHDR: (16, 0) 16-bit grey, (8, 6) RGBA, (8, 0) grey."""
    with open(path, 'rb') as f:
        head = f.read(26)
    assert head[:8] == b'\x89PNG\r\n\x1a\n' and head[12:16] == b'IHDR'
    return head[24], head[25]


def test_every_layout_is_written_where_returned(own):
    assert list(own) == ['photos', 'photos-nested', 'classification', 'coco', 'segmentation']
    root = osp.dirname(own['photos'])
    assert all(folder == osp.join(root, name) and osp.isdir(folder) for name, folder in own.items())


def test_the_photo_plan_mixes_extensions_cases_and_modes():
    """The listing itself: the brief's mix, independent of what is on disk."""
    exts = collections.Counter(osp.splitext(name)[1] for name, _ in own_data.PHOTOS)
    assert exts == {ext: 4 for ext in ('.jpg', '.JPG', '.jpeg', '.JPEG', '.png', '.PNG', '.bmp', '.ppm', '.pgm',
                                        '.tif', '.TIFF', '.webp')}
    modes = collections.Counter(mode for _, mode in own_data.PHOTOS)
    assert modes['I;16'] == 1 and modes['RGBA'] == 1 and modes['RGB'] > 20
    assert all(mode == 'L' for name, mode in own_data.PHOTOS if name.endswith('.pgm'))
    assert sum(mode == 'L' for name, mode in own_data.PHOTOS if not name.endswith('.pgm')) >= 5
    assert all(name.lower().endswith('.png') for name, mode in own_data.PHOTOS if mode in ('I;16', 'RGBA'))


def test_photos_are_flat_and_read_back_in_their_modes_formats_and_sizes(own):
    root = own['photos']
    assert sorted(os.listdir(root)) == sorted([name for name, _ in own_data.PHOTOS] + list(NON_IMAGES))
    sizes = set()
    for name, mode in own_data.PHOTOS:
        with Image.open(osp.join(root, name)) as img:
            assert (img.mode, img.format) == (mode, FORMATS[osp.splitext(name)[1].lower()]), name
            w, h = img.size
            assert 48 <= w <= 96 and 48 <= h <= 96 and w != h, (name, img.size)
            sizes.add(img.size)
            if mode == 'I;16':
                assert png_header(osp.join(root, name)) == (16, 0)
                assert np.asarray(img).max() > 255  # 16-bit levels, not 8-bit ones in a 16-bit file
            if mode == 'RGBA':
                assert png_header(osp.join(root, name)) == (8, 6)
                assert {0, 255} <= set(np.unique(np.asarray(img)[..., 3]))
    assert len(sizes) > 30
    for name in NON_IMAGES:
        assert 0 < osp.getsize(osp.join(root, name)) < 64
        with pytest.raises(OSError):
            Image.open(osp.join(root, name))


def test_photos_nested_are_jpeg_and_png_one_to_three_folders_deep(own):
    root = own['photos-nested']
    files = files_under(root)
    assert own_data.NESTED_README in files and own_data.NESTED_README.count('/') >= 1
    images = [f for f in files if f != own_data.NESTED_README]
    assert len(images) == 24
    assert {f.count('/') for f in images} == {1, 2, 3}  # folders above the file
    assert {osp.splitext(f)[1] for f in images} == {'.jpg', '.png'}
    assert max(collections.Counter(osp.basename(f) for f in images).values()) > 1  # names repeat across folders
    for f in images:
        with Image.open(osp.join(root, f)) as img:
            assert img.format == FORMATS[osp.splitext(f)[1]] and img.mode == 'RGB'
            assert 48 <= min(img.size) and max(img.size) <= 96


def test_classification_has_the_same_classes_in_train_and_val(own):
    root = own['classification']
    assert sorted(os.listdir(root)) == ['train', 'val']
    classes = {split: sorted(os.listdir(osp.join(root, split))) for split in ('train', 'val')}
    assert classes['train'] == classes['val'] == sorted(['disks', 'stripes', 'checkers'])
    for split, per_class in (('train', 24), ('val', 8)):
        for cls in classes[split]:
            names = os.listdir(osp.join(root, split, cls))
            assert len(names) == per_class and all(n.endswith('.jpg') for n in names)
            with Image.open(osp.join(root, split, cls, names[0])) as img:
                assert (img.format, img.mode, img.size) == ('JPEG', 'RGB', (64, 64))


@pytest.mark.parametrize('split, size', [('train', 24), ('val', 8)])
def test_coco_loads_with_categories_1_and_3_and_boxes_inside_their_images(own, split, size):
    root = own['coco']
    assert sorted(os.listdir(osp.join(root, 'annotations'))) == ['train.json', 'val.json']
    api = COCO(osp.join(root, 'annotations', f'{split}.json'))
    assert sorted(api.getCatIds()) == [1, 3]
    assert {c['name'] for c in api.loadCats([1, 3])} == {'disk', 'square'}
    assert len(api.getImgIds()) == size
    assert {a['category_id'] for a in api.loadAnns(api.getAnnIds())} == {1, 3}
    for image in api.loadImgs(api.getImgIds()):
        with Image.open(osp.join(root, split, image['file_name'])) as img:
            assert img.format == 'JPEG' and img.size == (image['width'], image['height']) == (128, 128)
        anns = api.loadAnns(api.getAnnIds(imgIds=image['id']))
        assert anns, image
        for a in anns:
            x, y, w, h = a['bbox']
            assert 0 <= x and 0 <= y and w > 0 and h > 0
            assert x + w <= image['width'] and y + h <= image['height'], a
            assert a['area'] > 0 and a['iscrowd'] == 0 and len(a['segmentation'][0]) >= 6
            assert api.annToMask(a).sum() == pytest.approx(a['area'], rel=0.15)


def test_segmentation_pairs_label_maps_of_0_1_2_and_a_thin_255_edge(own):
    root = own['segmentation']
    with open(osp.join(root, 'classes.txt')) as f:
        assert f.read().splitlines() == ['background', 'disk', 'stripes']
    values = set()
    for split, size in (('train', 24), ('val', 8)):
        images = sorted(os.listdir(osp.join(root, 'images', split)))
        labels = sorted(os.listdir(osp.join(root, 'annotations', split)))
        assert len(images) == size and all(n.endswith('.jpg') for n in images)
        assert [osp.splitext(n)[0] for n in images] == [osp.splitext(n)[0] for n in labels]
        assert all(n.endswith('.png') for n in labels)
        for name in labels:
            with Image.open(osp.join(root, 'annotations', split, name)) as img:
                assert img.mode == 'L' and png_header(osp.join(root, 'annotations', split, name)) == (8, 0)
                label = np.asarray(img)
            assert label.shape == (64, 64)
            values |= set(np.unique(label).tolist())
            ignored = Image.fromarray(np.uint8(label == 255) * 255)
            # thin: a sixth of the map at most, and no 5 x 5 block all ignored
            assert np.mean(ignored) < 255 / 6 and ignored.filter(ImageFilter.MinFilter(5)).getextrema()[1] == 0, name
    assert values == {0, 1, 2, 255}


def test_the_same_seed_writes_the_same_bytes_and_another_seed_others(own, tmp_path):
    again = make_own_data(str(tmp_path / 'again'), seed=0)
    other = make_own_data(str(tmp_path / 'other'), seed=1)
    for name, folder in own.items():
        files = files_under(folder)
        assert files_under(again[name]) == files
        sample = files[::3]
        match, mismatch, errors = filecmp.cmpfiles(folder, again[name], sample, shallow=False)
        assert (mismatch, errors) == ([], []), name
        images = [f for f in sample if osp.splitext(f)[1].lower() in FORMATS]
        _, mismatch, _ = filecmp.cmpfiles(folder, other[name], images, shallow=False)
        assert len(mismatch) == len(images), name


def test_make_demo_data_own_data_writes_own_once(tmp_path):
    """``--own-data``: ``<out>/own/<layout>`` and a stamp, nothing else; the second run skips."""
    out = tmp_path / 'demo'
    first = run_tool('tools/make_demo_data.py', '--out', str(out), '--own-data')
    assert os.listdir(out) == ['own']
    assert sorted(os.listdir(out / 'own')) == sorted(['.complete', *own_data.LAYOUTS])
    assert json.loads((out / 'own' / '.complete').read_text()) == dict(seed=0, version=own_data.VERSION)
    assert all(f'{name}: {out / "own" / name}' in first for name in own_data.LAYOUTS)
    assert 'already complete' in run_tool('tools/make_demo_data.py', '--out', str(out), '--own-data')
