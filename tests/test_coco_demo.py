"""The demo COCO set: COCO's layout, exact boxes and polygons, shapes painted where annotated."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from conftest import ROOT


@pytest.fixture(scope='module')
def coco_module():
    """tools/demo_data/coco.py (tools/ is not a package: make_demo_data.py runs from there)."""
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    try:
        from demo_data import coco
    finally:
        sys.path.pop(0)
    return coco


def test_demo_coco_has_the_coco_layout_and_exact_annotations(demo_data, coco_module):
    root = osp.join(demo_data, 'coco')
    for split, size in coco_module.SPLIT_SIZES.items():
        with open(osp.join(root, 'annotations', f'instances_{split}2017.json')) as f:
            ann = json.load(f)
        assert [c['name'] for c in ann['categories']] == list(coco_module.CLASSES)
        assert len(ann['images']) == size and len(ann['annotations']) >= size
        images = {im['id']: im for im in ann['images']}
        for a in ann['annotations'][:40]:
            image = images[a['image_id']]
            assert osp.isfile(osp.join(root, f'{split}2017', image['file_name']))
            xs, ys = np.array(a['segmentation'][0][0::2]), np.array(a['segmentation'][0][1::2])
            assert a['bbox'] == pytest.approx([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])
            rle = mask_utils.frPyObjects(a['segmentation'], image['height'], image['width'])
            pixels = mask_utils.area(mask_utils.merge(rle))
            assert abs(pixels - a['area']) < 0.12 * a['area'] + 10, a  # rasterised polygon ~ its area
            assert a['iscrowd'] == 0


def test_shapes_are_painted_exactly_where_their_polygons_lie(coco_module):
    """A shape painted on a black canvas covers its polygon: the same area (up to the anti-aliased
    rim) and the same pixels as pycocotools rasterises from the annotation."""
    rng = np.random.default_rng(0)
    for cls in coco_module.CLASSES:
        points = coco_module.shape_polygon(rng, cls, (40.3, 50.7), 20.0)
        img = Image.new('RGB', (96, 96))
        coco_module.paint_polygon(img, points, (255, 255, 255))
        coverage = np.asarray(img, dtype=np.float64)[..., 0] / 255
        assert coverage.sum() == pytest.approx(coco_module.polygon_area(points), rel=0.03)
        rle = mask_utils.frPyObjects([[v for xy in points for v in xy]], 96, 96)
        annotated, painted = mask_utils.decode(rle)[..., 0].astype(bool), coverage > 0.5
        assert (annotated & painted).sum() / (annotated | painted).sum() > 0.95, cls
