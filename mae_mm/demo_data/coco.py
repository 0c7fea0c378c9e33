"""The demo COCO: ``{train,val}2017/*.jpg`` and ``annotations/instances_{train,val}2017.json``.

128 x 128 pictures over softened photo crops, each with 1 to 4 non-overlapping shapes of three
classes in random colours. Every shape is drawn as a polygon, 4x supersampled and
anti-aliased, and annotated with that same polygon (``segmentation``), its exact bounding box
and its area, so boxes and masks are exact up to the anti-aliased edge.
"""
import json
import math
import os
import os.path as osp

import numpy as np
from PIL import Image, ImageDraw

from .common import random_color, sample_photos, soft_background

CLASSES = ('disk', 'triangle', 'square')
SPLIT_SIZES = dict(train=240, val=40)  # images
IMAGE_SIZE = 128
VERSION = 1  # bump when the images change
_SIDES = dict(disk=24, triangle=3, square=4)  # a disk is a 24-gon: its polygon is its outline
_SUPERSAMPLE = 4


def shape_polygon(rng, cls, center, radius):
    """The vertices [(x, y), ...] of a randomly rotated regular polygon of the class, to 0.01 pixel."""
    sides = _SIDES[cls]
    phase = rng.uniform(0, 2 * math.pi)
    return [(round(center[0] + radius * math.cos(phase + 2 * math.pi * k / sides), 2),
             round(center[1] + radius * math.sin(phase + 2 * math.pi * k / sides), 2)) for k in range(sides)]


def paint_polygon(img, points, color):
    """Fills ``points`` on ``img`` (in place) with ``color``, anti-aliased by supersampling."""
    s = _SUPERSAMPLE
    alpha = Image.new('L', (img.size[0] * s, img.size[1] * s), 0)
    ImageDraw.Draw(alpha).polygon([(x * s, y * s) for x, y in points], fill=255)
    alpha = alpha.resize(img.size, Image.BOX)
    img.paste(Image.new('RGB', img.size, color), (0, 0), alpha)


def polygon_area(points):
    """Shoelace formula."""
    xs, ys = np.array(points).T
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def make_image(rng, photos, max_tries=50):
    """A picture and its objects [(class index, polygon)], boxes pairwise disjoint."""
    img = soft_background(rng, photos, IMAGE_SIZE)
    objects, boxes = [], []
    for _ in range(rng.integers(1, 5)):
        for _ in range(max_tries):
            cls = int(rng.integers(len(CLASSES)))
            radius = rng.uniform(10, 30)
            center = rng.uniform(radius + 1, IMAGE_SIZE - radius - 1, size=2)
            points = shape_polygon(rng, CLASSES[cls], center, radius)
            xs, ys = zip(*points)
            box = (min(xs), min(ys), max(xs), max(ys))
            if all(box[2] + 2 < b[0] or b[2] + 2 < box[0] or box[3] + 2 < b[1] or b[3] + 2 < box[1] for b in boxes):
                break
        else:
            continue
        paint_polygon(img, points, random_color(rng))
        objects.append((cls, points))
        boxes.append(box)
    return img, objects


def make_coco(out: str, seed: int) -> int:
    """Writes ``out/{train,val}2017/`` and ``out/annotations/instances_{train,val}2017.json``;
    returns the number of images."""
    photos = sample_photos()
    categories = [dict(id=i + 1, name=name, supercategory='shape') for i, name in enumerate(CLASSES)]
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    count = 0
    for split_index, (split, size) in enumerate(SPLIT_SIZES.items()):
        rng = np.random.default_rng([seed, split_index])
        folder = osp.join(out, f'{split}2017')
        os.makedirs(folder, exist_ok=True)
        images, annotations = [], []
        for i in range(size):
            img, objects = make_image(rng, photos)
            file_name = f'{i + 1:012d}.jpg'
            img.save(osp.join(folder, file_name), quality=95)
            images.append(dict(id=i + 1, file_name=file_name, width=IMAGE_SIZE, height=IMAGE_SIZE))
            for cls, points in objects:
                xs, ys = zip(*points)
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=i + 1, category_id=cls + 1, iscrowd=0,
                    segmentation=[[v for xy in points for v in xy]], area=polygon_area(points),
                    bbox=[min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]))
            count += 1
        with open(osp.join(out, 'annotations', f'instances_{split}2017.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return count
