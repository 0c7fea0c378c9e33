"""The demo ImageNet-R: ``<class>/<style>_<i>.jpg``, renditions of the demo val images of a subset of classes.

ImageNet-R (Hendrycks et al., "The Many Faces of Robustness", ICCV 2021) holds renditions (art,
cartoons, paintings, sketches, video-game graphics, ...) of 200 of ImageNet's 1000 classes, one
folder per class, files named after the rendition's kind (``cartoon_12.jpg``). Here: 3 of the demo's
5 classes (:data:`CLASSES`), each demo val image of them drawn in each of :data:`STYLES` at 96 x 96,
the size of the demo ImageNet's pictures. The styles keep the shapes that decide the class and
change their texture and colour, as renditions do. Reads ``imagenet/val`` beside ``out``
(:mod:`.imagenet`, written first by :func:`.make.make_all`).
"""
import os
import os.path as osp

import cv2
import numpy as np
from PIL import Image

from . import imagenet

CLASSES = ('disks', 'stripes', 'triangles')  # the subset, in the demo's class order
JPEG_QUALITY = 90


def cartoon(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat colours (edge-preserving smoothing, then 4-6 levels per channel) and dark outlines.
    (H, W, 3) uint8 RGB -> same."""
    smooth = img
    for _ in range(3):
        smooth = cv2.bilateralFilter(smooth, d=5, sigmaColor=50, sigmaSpace=5)
    step = 256 / rng.integers(4, 7)
    flat = (np.floor(smooth / step) * step + step / 2).astype(np.uint8)
    edges = cv2.Canny(cv2.medianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), 3), 50, 120)
    flat[edges > 0] = 20
    return flat


def sketch(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A pencil drawing: the grey image colour-dodged by its blurred negative (light paper, dark
    strokes where the brightness changes), on paper grain. (H, W, 3) uint8 RGB -> grey RGB."""
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    negative = cv2.GaussianBlur(255 - grey, (0, 0), sigmaX=rng.uniform(2, 4))
    drawing = np.minimum(grey / np.maximum(255 - negative, 1), 1) ** rng.uniform(2, 3) * 255  # pressed harder
    drawing -= np.abs(rng.normal(0, 8, grey.shape))  # paper grain
    drawing = np.clip(drawing, 0, 255).astype(np.uint8)
    return np.repeat(drawing[..., None], 3, axis=2)


def painting(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brush-like smoothing, twice (Kuwahara: each pixel takes the mean colour of the least varied
    of its four corner windows of side ``r + 1``, r in 2..3), and livelier colours.
    (H, W, 3) uint8 -> same."""
    r = int(rng.integers(2, 4))
    x = img.astype(np.float32) / 255
    for _ in range(2):
        grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)
        means, variances = [], []
        for anchor in ((0, 0), (r, 0), (0, r), (r, r)):  # windows right-below, left-below, right-above, left-above
            box = dict(ksize=(r + 1, r + 1), anchor=anchor, borderType=cv2.BORDER_REFLECT)
            means.append(cv2.boxFilter(x, -1, **box))
            variances.append(cv2.boxFilter(grey * grey, -1, **box) - cv2.boxFilter(grey, -1, **box) ** 2)
        best = np.argmin(np.stack(variances), axis=0)  # (H, W)
        x = np.take_along_axis(np.stack(means), best[None, ..., None], axis=0)[0]
    hsv = cv2.cvtColor(x, cv2.COLOR_RGB2HSV)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.4, 0, 1)
    return np.rint(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255).clip(0, 255).astype(np.uint8)


def videogame(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pixel art: a 16-32 px grid of 8-16 palette colours, enlarged back with hard edges.
    (H, W, 3) uint8 -> same."""
    h, w = img.shape[:2]
    side = int(rng.choice([16, 24, 32]))
    small = Image.fromarray(img).resize((side, side), Image.BOX)
    small = small.quantize(colors=int(rng.integers(8, 17)), dither=Image.Dither.NONE).convert('RGB')
    return np.asarray(small.resize((w, h), Image.NEAREST))


STYLES = {f.__name__: f for f in (cartoon, sketch, painting, videogame)}
SPLIT_SIZES = {style: imagenet.SPLIT_SIZES['val'] for style in STYLES}  # images per class of each style
VERSION = (1, imagenet.VERSION)  # this set's (bump when a style changes), the demo ImageNet's


def make_imagenet_r(out: str, seed: int) -> int:
    """Writes ``out/<class>/<style>_<i>.jpg`` for :data:`CLASSES` x their demo val images x
    :data:`STYLES`; returns the number of files."""
    val = osp.join(osp.dirname(osp.abspath(out)), 'imagenet', 'val')
    if not osp.isdir(val):
        raise FileNotFoundError(f'{val}: no demo ImageNet val set to render (write imagenet first: '
                                'tools/make_demo_data.py)')
    count = 0
    for cls in CLASSES:
        cls_index = imagenet.CLASSES.index(cls)
        os.makedirs(osp.join(out, cls), exist_ok=True)
        for i, name in enumerate(sorted(os.listdir(osp.join(val, cls)))):
            with Image.open(osp.join(val, cls, name)) as f:
                img = np.asarray(f.convert('RGB'))
            for style_index, (style, render) in enumerate(STYLES.items()):
                rng = np.random.default_rng([seed, cls_index, i, style_index])
                Image.fromarray(render(img, rng)).save(osp.join(out, cls, f'{style}_{i}.jpg'), quality=JPEG_QUALITY)
                count += 1
    return count
