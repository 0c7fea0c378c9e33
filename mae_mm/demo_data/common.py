"""Shared pieces of the demo data: the real photographs and simple shapes drawn over them."""
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

IMAGE_SIZE = 96  # side of the demo ImageNet's square pictures


def sample_photos():
    """The real photographs shipped in matplotlib's sample data, as RGB PIL images."""
    import matplotlib.cbook as cbook

    photos = []
    for name in ('grace_hopper.jpg', 'Minduka_Present_Blue_Pack.png'):
        with cbook.get_sample_data(name) as f:
            photos.append(Image.open(f).convert('RGB'))
    return photos


def photo_crop(rng, photos, size=IMAGE_SIZE):
    """A random square crop of a random photo, resized to ``size``."""
    photo = photos[rng.integers(len(photos))]
    side = int(rng.uniform(0.3, 1.0) * min(photo.size))
    x0 = rng.integers(0, photo.size[0] - side + 1)
    y0 = rng.integers(0, photo.size[1] - side + 1)
    crop = photo.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.BICUBIC)
    return crop.transpose(Image.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else crop


def random_color(rng):
    """An (r, g, b) tuple of ints in [0, 255]."""
    return tuple(int(c) for c in rng.integers(0, 256, size=3))


def soft_background(rng, photos, size=IMAGE_SIZE):
    """A blurred, faded photo crop: real texture that does not decide the class."""
    bg = photo_crop(rng, photos, size).filter(ImageFilter.GaussianBlur(2))
    return Image.blend(bg, Image.new('RGB', (size, size), random_color(rng)), 0.5)


def draw_disks(rng, img):
    """One to three solid disks in random colours, drawn on ``img`` in place."""
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 4)):
        r = rng.uniform(8, 22)
        cx, cy = rng.uniform(r, img.size[0] - r, size=2)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=random_color(rng))
    return img


def draw_stripes(rng, img):
    """A new image: stripes of one random colour at a random angle and period, 80% over ``img``."""
    size = img.size[0]
    theta = rng.uniform(0, math.pi)
    period = rng.uniform(8, 20)
    yy, xx = np.mgrid[0:size, 0:size]
    wave = (np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period) > 0)[..., None]
    base = np.asarray(img, dtype=np.float32)
    colored = np.where(wave, np.array(random_color(rng)), base)
    return Image.fromarray((0.8 * colored + 0.2 * base).astype(np.uint8))


def draw_checkers(rng, img):
    """A new image: a checkerboard of two random colours with a random cell size, 80% over ``img``."""
    size = img.size[0]
    cell = int(rng.integers(8, 20))
    yy, xx = np.mgrid[0:size, 0:size]
    board = (((xx // cell) + (yy // cell)) % 2 == 0)[..., None]
    base = np.asarray(img, dtype=np.float32)
    colored = np.where(board, np.array(random_color(rng)), np.array(random_color(rng)))
    return Image.fromarray((0.8 * colored + 0.2 * base).astype(np.uint8))


def draw_triangles(rng, img):
    """One or two randomly rotated solid triangles in random colours, drawn on ``img`` in place."""
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 3)):
        r = rng.uniform(14, 30)
        cx, cy = rng.uniform(r, img.size[0] - r, size=2)
        phase = rng.uniform(0, 2 * math.pi)
        pts = [(cx + r * math.cos(phase + k * 2 * math.pi / 3), cy + r * math.sin(phase + k * 2 * math.pi / 3))
               for k in range(3)]
        draw.polygon(pts, fill=random_color(rng))
    return img
