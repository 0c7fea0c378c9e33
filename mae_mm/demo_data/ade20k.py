"""The demo ADE20K: ``images/{training,validation}/*.jpg`` and ``annotations/{training,validation}/*.png``.

Each picture is a greyed, softened photo crop (class ``photo``) with two to four regions drawn
over it: red disks, green striped and blue checkered rectangles (each class has its own
colour family and texture, as sky or grass do in ADE20K), and sometimes a patch of noise left
unlabelled. The annotation PNG holds the exact region of every pixel in ADE20K's convention:
0 for "other" (ignored; ``reduce_zero_label`` maps it to 255), and class ``k`` of
:data:`CLASSES` as ``k + 1``.
"""
import os
import os.path as osp

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .common import photo_crop, sample_photos

CLASSES = ('photo', 'disk', 'stripes', 'checkers')
SPLIT_SIZES = dict(training=160, validation=40)  # images per split
IMAGE_SIZES = ((96, 128), (128, 96), (96, 96), (96, 144))  # (height, width), multiples of 8
VERSION = 2  # bump when the images change


def _tint(rng, channel):
    """A random colour dominated by ``channel`` (0 red, 1 green, 2 blue)."""
    colour = rng.integers(0, 90, size=3)
    colour[channel] = rng.integers(170, 256)
    return colour.astype(np.float32)


def grey_background(rng, photos, size):
    """A blurred photo crop pulled halfway to grey: real texture, no strong colour."""
    bg = photo_crop(rng, photos, size).filter(ImageFilter.GaussianBlur(2))
    return Image.blend(bg, Image.new('RGB', (size, size), (128, 128, 128)), 0.5)


def _region(rng, shape, size_hw, side):
    """A (side, side) bool mask of one region inside the top-left (h, w): a disk or an
    axis-aligned rectangle."""
    h, w = size_hw
    mask = Image.new('1', (side, side), 0)
    draw = ImageDraw.Draw(mask)
    if shape == 'disk':
        r = rng.uniform(10, 24)
        cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=1)
    else:
        bw, bh = rng.uniform(24, 56), rng.uniform(24, 56)
        x0, y0 = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        draw.rectangle((x0, y0, x0 + bw, y0 + bh), fill=1)
    return np.asarray(mask, dtype=bool)


def _texture(rng, cls, side):
    """The (side, side, 3) picture the region of ``cls`` is cut from."""
    yy, xx = np.mgrid[0:side, 0:side]
    if cls == 'disk':  # solid red-ish
        return np.broadcast_to(_tint(rng, 0), (side, side, 3))
    if cls == 'stripes':  # green-ish stripes on a darker green, any angle
        theta, period = rng.uniform(0, np.pi), rng.uniform(8, 20)
        on = np.sin(2 * np.pi * (xx * np.cos(theta) + yy * np.sin(theta)) / period) > 0
        return np.where(on[..., None], _tint(rng, 1), 0.4 * _tint(rng, 1))
    if cls == 'checkers':  # two blue-ish tones
        cell = int(rng.integers(8, 20))
        on = ((xx // cell) + (yy // cell)) % 2 == 0
        return np.where(on[..., None], _tint(rng, 2), 0.4 * _tint(rng, 2))
    return rng.integers(0, 256, size=(side, side, 3))  # noise


def make_pair(rng, photos):
    """One picture and its annotation: (PIL RGB image, (H, W) uint8 array in ADE20K's ids)."""
    h, w = IMAGE_SIZES[rng.integers(len(IMAGE_SIZES))]
    side = max(h, w)  # drawn on a square canvas, then cropped
    pixels = np.array(grey_background(rng, photos, side))
    label = np.full((side, side), CLASSES.index('photo') + 1, dtype=np.uint8)
    regions = [CLASSES[k] for k in rng.integers(1, len(CLASSES), size=rng.integers(2, 5))]
    if rng.random() < 0.5:
        regions.insert(rng.integers(len(regions) + 1), 'noise')  # unlabelled "other" stuff
    for cls in regions:
        mask = _region(rng, 'disk' if cls == 'disk' else 'rectangle', (h, w), side)
        pixels[mask] = _texture(rng, cls, side)[mask].astype(np.uint8)
        label[mask] = 0 if cls == 'noise' else CLASSES.index(cls) + 1
    return Image.fromarray(pixels[:h, :w]), label[:h, :w]


def make_ade20k(out: str, seed: int) -> int:
    """Writes ``out/images/<split>/ADE_<split>_<i>.jpg`` and ``out/annotations/<split>/...png``;
    returns the number of images."""
    photos = sample_photos()
    count = 0
    for split_index, (split, size) in enumerate(SPLIT_SIZES.items()):
        rng = np.random.default_rng([seed, split_index, 150])
        for folder in ('images', 'annotations'):
            os.makedirs(osp.join(out, folder, split), exist_ok=True)
        for i in range(size):
            image, label = make_pair(rng, photos)
            name = f'ADE_{"train" if split == "training" else "val"}_{i:08d}'
            image.save(osp.join(out, 'images', split, name + '.jpg'), quality=90)
            Image.fromarray(label).save(osp.join(out, 'annotations', split, name + '.png'))
            count += 1
    return count
