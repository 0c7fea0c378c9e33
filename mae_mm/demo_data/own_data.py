"""Example "own data": the folder layouts a user brings to ``tools/train.py CONFIG --data-root DIR``.

:func:`make_own_data` writes five small sets under one root, each in the layout a user's data
arrives in, with the untidiness real folders have:

- ``photos/``: unlabelled, flat: 48 pictures of 48 to 96 px (never square) in twelve extensions
  of mixed case (:data:`PHOTOS`), RGB, greyscale, one 16-bit greyscale PNG and one RGBA PNG,
  beside ``notes.txt``, ``.DS_Store`` and ``Thumbs.db``.
- ``photos-nested/``: unlabelled, 24 JPEG and PNG pictures in folders 1 to 3 deep
  (:data:`NESTED_FOLDERS`), the same file names in every folder, and ``site_a/readme.txt``.
- ``classification/{train,val}/<class>/*.jpg``: disks, stripes and checkerboards over softened
  photo crops (the demo ImageNet's drawings), 64 x 64.
- ``coco/{train,val}/*.jpg`` + ``coco/annotations/{train,val}.json``: disks and squares with
  their polygons, boxes and areas (the demo COCO's shapes), category ids 1 and 3: not 0 .. K-1.
- ``segmentation/images/{train,val}/*.jpg`` + ``segmentation/annotations/{train,val}/*.png`` +
  ``segmentation/classes.txt``: label maps 0 .. 2 (background, disk, stripes: the demo ADE20K's
  regions), 255 on a one-pixel ring each side of every region's edge in every other map.

Deterministic in ``seed``: one random stream per set (and split), so the sets do not depend on
each other.
"""
import json
import os
import os.path as osp
from typing import Dict

import numpy as np
from PIL import Image, ImageDraw

from . import ade20k, coco, imagenet
from .common import draw_checkers, draw_disks, draw_stripes, random_color, sample_photos, soft_background

VERSION = 1  # bump when the files change
LAYOUTS = ('photos', 'photos-nested', 'classification', 'coco', 'segmentation')
_STREAM = 4242  # keeps the random streams apart from the demo sets'
SIDES = (48, 96)  # the photo layouts' least and greatest side

# photos/: (file name, mode as Pillow reads it back); each extension four times
PHOTO_EXTENSIONS = ('.jpg', '.JPG', '.jpeg', '.JPEG', '.png', '.PNG', '.bmp', '.ppm', '.pgm', '.tif', '.TIFF',
                    '.webp')
_NO_GREY = ('.ppm', '.webp')  # a greyscale .ppm would be a PGM inside; WebP stores RGB


def _photo_mode(i: int, ext: str) -> str:
    if i == 4:  # the first '.png'
        return 'I;16'
    if i == 5:  # the first '.PNG'
        return 'RGBA'
    grey = ext == '.pgm' or (i // len(PHOTO_EXTENSIONS) == 1 and ext not in _NO_GREY)
    return 'L' if grey else 'RGB'


PHOTOS = tuple((f'img_{i:03d}{ext}', _photo_mode(i, ext))
               for i, ext in ((i, PHOTO_EXTENSIONS[i % len(PHOTO_EXTENSIONS)]) for i in range(48)))
NON_IMAGES = {'notes.txt': b'field trip, May 2024\n',
              '.DS_Store': b'\x00\x00\x00\x01Bud1\x00\x00',  # macOS Finder's file, its magic
              'Thumbs.db': b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'}  # Windows' thumbnail cache, an OLE header

# photos-nested/: six pictures in each folder, named alike in every folder
NESTED_FOLDERS = ('site_a/2024/05', 'site_a/2024/06', 'site_b', 'site_c/cam1')
NESTED_PER_FOLDER = 6
NESTED_README = 'site_a/readme.txt'

CLASSIFICATION_CLASSES = ('disks', 'stripes', 'checkers')
CLASSIFICATION_SIZES = dict(train=24, val=8)  # images per class
CLASSIFICATION_SIZE = 64

COCO_CATEGORIES = ((1, 'disk'), (3, 'square'))  # (id, name): ids deliberately not 0 .. K-1
COCO_SIZES = dict(train=24, val=8)  # images
COCO_SIZE = 128

SEGMENTATION_CLASSES = ('background', 'disk', 'stripes')  # label k is SEGMENTATION_CLASSES[k]
SEGMENTATION_SIZES = dict(train=24, val=8)  # images
SEGMENTATION_SIZE = 64
IGNORE = 255


def _rng(seed, *stream):
    return np.random.default_rng([seed, _STREAM, *stream])


def random_photo(rng, photos):
    """An RGB picture of random, unequal sides in :data:`SIDES`: a crop of one of the demo
    ImageNet's pictures (a photo, or shapes over a softened photo)."""
    while True:
        w, h = (int(s) for s in rng.integers(SIDES[0], SIDES[1] + 1, size=2))
        if w != h:
            break
    img = imagenet.make_image(rng, photos, imagenet.CLASSES[rng.integers(len(imagenet.CLASSES))])
    x0, y0 = int(rng.integers(0, img.size[0] - w + 1)), int(rng.integers(0, img.size[1] - h + 1))
    return img.crop((x0, y0, x0 + w, y0 + h))


def _in_mode(img, mode):
    """``img`` (RGB) as ``mode``: 'RGB', 'L', 'I;16' (the grey levels times 257) or 'RGBA' (opaque
    inside the inscribed ellipse, transparent outside)."""
    if mode == 'I;16':
        return Image.fromarray(np.asarray(img.convert('L'), dtype=np.uint16) * 257)
    if mode == 'RGBA':
        alpha = Image.new('L', img.size, 0)
        ImageDraw.Draw(alpha).ellipse((0, 0, img.size[0] - 1, img.size[1] - 1), fill=255)
        img = img.copy()
        img.putalpha(alpha)
        return img
    return img.convert(mode)


def make_photos(out, seed, photos):
    """``out/`` flat: :data:`PHOTOS` and :data:`NON_IMAGES`."""
    rng = _rng(seed, LAYOUTS.index('photos'))
    os.makedirs(out, exist_ok=True)
    for name, mode in PHOTOS:
        _in_mode(random_photo(rng, photos), mode).save(osp.join(out, name))
    for name, data in NON_IMAGES.items():
        with open(osp.join(out, name), 'wb') as f:
            f.write(data)


def make_photos_nested(out, seed, photos):
    """``out/<folder>/img_<k>.{jpg,png}`` for each of :data:`NESTED_FOLDERS`, and :data:`NESTED_README`."""
    rng = _rng(seed, LAYOUTS.index('photos-nested'))
    for folder in NESTED_FOLDERS:
        os.makedirs(osp.join(out, folder), exist_ok=True)
        for k in range(NESTED_PER_FOLDER):
            random_photo(rng, photos).save(osp.join(out, folder, f'img_{k:03d}{(".jpg", ".png")[k % 2]}'))
    with open(osp.join(out, NESTED_README), 'w') as f:
        f.write('Pictures from the camera traps, one folder per site.\n')


def make_classification(out, seed, photos):
    """``out/{train,val}/<class>/<class>_<i>.jpg``."""
    painters = dict(disks=draw_disks, stripes=draw_stripes, checkers=draw_checkers)
    for split_index, (split, per_class) in enumerate(CLASSIFICATION_SIZES.items()):
        for cls_index, cls in enumerate(CLASSIFICATION_CLASSES):
            rng = _rng(seed, LAYOUTS.index('classification'), split_index, cls_index)
            os.makedirs(osp.join(out, split, cls), exist_ok=True)
            for i in range(per_class):
                img = painters[cls](rng, soft_background(rng, photos, CLASSIFICATION_SIZE))
                img.save(osp.join(out, split, cls, f'{cls}_{i:03d}.jpg'), quality=90)


def coco_image(rng, photos):
    """A picture and its objects [(category id, polygon)]: one shape in each of 1 to 4 of its
    quadrants, so no two overlap."""
    img = soft_background(rng, photos, COCO_SIZE)
    half = COCO_SIZE // 2
    objects = []
    for quadrant in rng.permutation(4)[:rng.integers(1, 5)]:
        cat_id, name = COCO_CATEGORIES[rng.integers(len(COCO_CATEGORIES))]
        radius = rng.uniform(10, 26)
        corner = np.array([quadrant % 2, quadrant // 2]) * half
        points = coco.shape_polygon(rng, name, corner + rng.uniform(radius + 2, half - radius - 2, size=2), radius)
        coco.paint_polygon(img, points, random_color(rng))
        objects.append((int(cat_id), points))
    return img, objects


def make_coco_layout(out, seed, photos):
    """``out/{train,val}/<i>.jpg`` and ``out/annotations/{train,val}.json``."""
    categories = [dict(id=i, name=name, supercategory='shape') for i, name in COCO_CATEGORIES]
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    for split_index, (split, size) in enumerate(COCO_SIZES.items()):
        rng = _rng(seed, LAYOUTS.index('coco'), split_index)
        os.makedirs(osp.join(out, split), exist_ok=True)
        images, annotations = [], []
        for i in range(size):
            img, objects = coco_image(rng, photos)
            file_name = f'{split}_{i:04d}.jpg'
            img.save(osp.join(out, split, file_name), quality=95)
            images.append(dict(id=i + 1, file_name=file_name, width=COCO_SIZE, height=COCO_SIZE))
            for cat_id, points in objects:
                xs, ys = zip(*points)
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=i + 1, category_id=cat_id, iscrowd=0,
                    segmentation=[[v for xy in points for v in xy]], area=coco.polygon_area(points),
                    bbox=[min(xs), min(ys), round(max(xs) - min(xs), 2), round(max(ys) - min(ys), 2)]))
        with open(osp.join(out, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)


def edge_ring(label):
    """(H, W) bool: the pixels with a 4-neighbour of another label, a ring one pixel wide each
    side of every region's edge (Pascal VOC's 255 outlines)."""
    ring = np.zeros(label.shape, dtype=bool)
    vertical, horizontal = label[1:] != label[:-1], label[:, 1:] != label[:, :-1]
    ring[1:] |= vertical
    ring[:-1] |= vertical
    ring[:, 1:] |= horizontal
    ring[:, :-1] |= horizontal
    return ring


def segmentation_pair(rng, photos, ignore_edges):
    """One picture and its (H, W) uint8 label map: 1 to 3 disk and stripes regions (the demo
    ADE20K's) over a greyed photo crop; :data:`IGNORE` on :func:`edge_ring` if ``ignore_edges``."""
    side = SEGMENTATION_SIZE
    pixels = np.array(ade20k.grey_background(rng, photos, side))
    label = np.zeros((side, side), dtype=np.uint8)
    for k in rng.integers(1, len(SEGMENTATION_CLASSES), size=rng.integers(1, 4)):
        cls = SEGMENTATION_CLASSES[k]
        mask = ade20k._region(rng, 'disk' if cls == 'disk' else 'rectangle', (side, side), side)
        pixels[mask] = ade20k._texture(rng, cls, side)[mask].astype(np.uint8)
        label[mask] = k
    if ignore_edges:
        label[edge_ring(label)] = IGNORE
    return Image.fromarray(pixels), label


def make_segmentation(out, seed, photos):
    """``out/images/<split>/<split>_<i>.jpg``, ``out/annotations/<split>/<split>_<i>.png`` and
    ``out/classes.txt``."""
    for split_index, (split, size) in enumerate(SEGMENTATION_SIZES.items()):
        rng = _rng(seed, LAYOUTS.index('segmentation'), split_index)
        for folder in ('images', 'annotations'):
            os.makedirs(osp.join(out, folder, split), exist_ok=True)
        for i in range(size):
            image, label = segmentation_pair(rng, photos, ignore_edges=i % 2 == 0)
            image.save(osp.join(out, 'images', split, f'{split}_{i:04d}.jpg'), quality=90)
            Image.fromarray(label).save(osp.join(out, 'annotations', split, f'{split}_{i:04d}.png'))
    with open(osp.join(out, 'classes.txt'), 'w') as f:
        f.write(''.join(name + '\n' for name in SEGMENTATION_CLASSES))


_MAKERS = dict(zip(LAYOUTS, (make_photos, make_photos_nested, make_classification, make_coco_layout,
                             make_segmentation)))


def make_own_data(out: str, seed: int = 0) -> Dict[str, str]:
    """Writes ``out/<layout>/`` for each of :data:`LAYOUTS`.

    Args:
        out (str): The root; created if missing.
        seed (int): The same seed writes the same bytes.

    Returns:
        dict: ``{layout name: its folder}``, in :data:`LAYOUTS` order.
    """
    photos = sample_photos()
    folders = {}
    for name, make in _MAKERS.items():
        folders[name] = osp.join(out, name)
        make(folders[name], seed, photos)
    return folders
