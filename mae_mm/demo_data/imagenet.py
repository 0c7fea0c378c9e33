"""The demo ImageNet: ``{train,val}/<class>/*.JPEG``, five classes of 96 x 96 pictures."""
import os
import os.path as osp

import numpy as np

from .common import (draw_checkers, draw_disks, draw_stripes, draw_triangles, photo_crop, sample_photos,
                     soft_background)

CLASSES = ('photo', 'disks', 'stripes', 'checkers', 'triangles')
SPLIT_SIZES = dict(train=80, val=20)  # images per class
VERSION = 1  # bump when the images change


def make_image(rng, photos, cls):
    """One 96 x 96 RGB picture of class ``cls``: a photo crop, or shapes over a softened one."""
    if cls == 'photo':
        return photo_crop(rng, photos)
    painter = dict(disks=draw_disks, stripes=draw_stripes, checkers=draw_checkers, triangles=draw_triangles)[cls]
    return painter(rng, soft_background(rng, photos))


def make_imagenet(out: str, seed: int) -> int:
    """Writes ``out/{train,val}/<class>/<class>_<i>.JPEG``; returns the number of files."""
    photos = sample_photos()
    count = 0
    for split_index, (split, per_class) in enumerate(SPLIT_SIZES.items()):
        for cls_index, cls in enumerate(CLASSES):
            rng = np.random.default_rng([seed, split_index, cls_index])
            folder = osp.join(out, split, cls)
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                make_image(rng, photos, cls).save(osp.join(folder, f'{cls}_{i:04d}.JPEG'), quality=90)
                count += 1
    return count
