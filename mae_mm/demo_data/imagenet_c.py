"""The demo ImageNet-C: ``<corruption>/<severity>/<class>/<name>.JPEG``, the demo val images corrupted.

Made as ImageNet-C was made from ImageNet's val set (Hendrycks & Dietterich, ICLR 2019; the
generation script ``ImageNet-C/create_c/make_imagenet_c.py`` of github.com/hendrycks/robustness):
each val image cropped as the classifier's test pipeline crops it (ImageNet-C: short edge 256,
centre 224; the demo fine-tuning config: short edge 73, bicubic, centre 64), corrupted
(:mod:`.corruptions`, pixel parameters scaled to the 64 px crop), and saved under its own file name
as a Pillow JPEG of quality 85 with ``optimize=True``, as that script saves ImageNet-C's. The demo
test pipeline's resize and crop are then identities on these 64 x 64 images.

Reads ``imagenet/val`` beside ``out`` (:mod:`.imagenet`, written first by :func:`.make.make_all`).
"""
import os
import os.path as osp
import zlib

import numpy as np
from PIL import Image

from . import imagenet
from .corruptions import CORRUPTIONS

# ImageNet-C's corruptions made here, in its order (noise, blur, weather, digital), of its 15
# benchmark ones (in the mCE) and of its 4 extra ones (reported apart)
BENCHMARK = ('gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur', 'motion_blur', 'zoom_blur', 'fog',
             'brightness', 'contrast', 'pixelate', 'jpeg_compression')
EXTRA = ('speckle_noise', 'gaussian_blur', 'saturate')
CORRUPTIONS_USED = BENCHMARK + EXTRA
SEVERITIES = (1, 2, 3, 4, 5)
RESIZE, CROP = 73, 64  # the demo classifier's test pipeline: short edge, then centre crop
JPEG_QUALITY = 85  # ImageNet-C's files
CLASSES = imagenet.CLASSES
# images per class in each <corruption>/<severity> folder: the demo val set's
SPLIT_SIZES = {f'{name}/{severity}': imagenet.SPLIT_SIZES['val'] for name in CORRUPTIONS_USED
               for severity in SEVERITIES}
VERSION = (1, imagenet.VERSION)  # this set's (bump when corruptions.py changes), the demo ImageNet's


def as_tested(img: Image.Image, resize: int = RESIZE, crop: int = CROP) -> np.ndarray:
    """The demo test pipeline's view of ``img``: the short edge resized to ``resize`` (bicubic,
    Pillow), the centre ``crop`` x ``crop`` cut out as mmpretrain's ``CenterCrop`` cuts it.

    Returns:
        (crop, crop, 3) uint8 RGB.
    """
    w, h = img.size
    scale = resize / min(w, h)
    img = img.convert('RGB').resize((round(w * scale), round(h * scale)), Image.BICUBIC)
    x0, y0 = int(round((img.width - crop) / 2)), int(round((img.height - crop) / 2))
    return np.asarray(img)[y0:y0 + crop, x0:x0 + crop]


def make_imagenet_c(out: str, seed: int) -> int:
    """Writes ``out/<corruption>/<severity>/<class>/<name>.JPEG`` for :data:`CORRUPTIONS_USED` x
    :data:`SEVERITIES` x the demo val images; returns the number of files.

    Each image's corruption draws from its own generator, seeded by ``seed``, the corruption's name,
    the severity and the image, so a set made with other corruptions keeps these images.
    """
    val = osp.join(osp.dirname(osp.abspath(out)), 'imagenet', 'val')
    if not osp.isdir(val):
        raise FileNotFoundError(f'{val}: no demo ImageNet val set to corrupt (write imagenet first: '
                                'tools/make_demo_data.py)')
    crops = {}  # (class index, file name) -> (CROP, CROP, 3) uint8
    for cls_index, cls in enumerate(CLASSES):
        for name in sorted(os.listdir(osp.join(val, cls))):
            with Image.open(osp.join(val, cls, name)) as img:
                crops[cls_index, name] = as_tested(img)
    count = 0
    for corruption in CORRUPTIONS_USED:
        corrupt, key = CORRUPTIONS[corruption], zlib.crc32(corruption.encode())
        for severity in SEVERITIES:
            for cls in CLASSES:
                os.makedirs(osp.join(out, corruption, str(severity), cls), exist_ok=True)
            for i, ((cls_index, name), crop) in enumerate(crops.items()):
                rng = np.random.default_rng([seed, key, severity, i])
                path = osp.join(out, corruption, str(severity), CLASSES[cls_index], name)
                Image.fromarray(corrupt(crop, severity, rng)).save(path, quality=JPEG_QUALITY, optimize=True)
                count += 1
    return count
