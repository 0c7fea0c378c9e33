"""The demo iNaturalist 2019: ``train2019.json``, ``val2019.json`` and
``train_val2019/<supercategory>/<category id>/<image id>.jpg``, the competition's layout.

The five demo ImageNet classes as five "species" under two supercategories, drawn as the demo
ImageNet draws them (96 x 96) from other random streams; category ids 0 .. 4 in ``CLASSES`` order,
image ids unique over both splits, one annotation per image (github.com/visipedia/inat_comp, 2019).
"""
import json
import os
import os.path as osp

import numpy as np

from .common import IMAGE_SIZE, sample_photos
from .imagenet import make_image

CLASSES = ('photo', 'disks', 'stripes', 'checkers', 'triangles')
SUPERCATEGORIES = dict(photo='Figures', disks='Figures', triangles='Figures', stripes='Patterns', checkers='Patterns')
SPLIT_SIZES = dict(train=24, val=8)  # images per species
VERSION = 1  # bump when the images change
_STREAM = 2019  # keeps the random streams apart from the demo ImageNet's


def make_inat(out: str, seed: int) -> int:
    """Writes the two jsons and ``out/train_val2019/...``; returns the number of images."""
    photos = sample_photos()
    categories = [dict(id=i, name=cls, supercategory=SUPERCATEGORIES[cls]) for i, cls in enumerate(CLASSES)]
    image_id = 0
    for split_index, (split, per_class) in enumerate(SPLIT_SIZES.items()):
        images, annotations = [], []
        for cat in categories:
            rng = np.random.default_rng([seed, _STREAM, split_index, cat['id']])
            folder = osp.join('train_val2019', cat['supercategory'], str(cat['id']))
            os.makedirs(osp.join(out, folder), exist_ok=True)
            for _ in range(per_class):
                file_name = f'{folder}/{image_id}.jpg'
                make_image(rng, photos, cat['name']).save(osp.join(out, file_name), quality=90)
                images.append(dict(id=image_id, width=IMAGE_SIZE, height=IMAGE_SIZE, file_name=file_name))
                annotations.append(dict(id=image_id, image_id=image_id, category_id=cat['id']))
                image_id += 1
        info = dict(year=2019, version='demo', description=f'mae_mm demo iNaturalist 2019, {split}')
        with open(osp.join(out, f'{split}2019.json'), 'w') as f:
            json.dump(dict(info=info, images=images, annotations=annotations, categories=categories, licenses=[]), f)
    return image_id
