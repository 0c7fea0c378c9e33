"""ImageNet-C's corruptions at severities 1-5, written for small images with numpy, Pillow and OpenCV.

Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
Perturbations", ICLR 2019: 15 benchmark corruptions in four families (noise, blur, weather,
digital) and 4 extra ones released for validation. The paper describes each one (Sec. 3 and the
appendix); the numbers per severity below are those of the script that generated ImageNet-C
(github.com/hendrycks/robustness, ``ImageNet-C/create_c/make_imagenet_c.py``), read there and
written here as tables; the functions are this module's own.

Intensities are in [0, 1]; each function returns its image clipped to [0, 1] and rounded to uint8.

==================  ================================================  ==============================
corruption          parameter per severity 1..5 (ImageNet-C, 224 px)  unit
==================  ================================================  ==============================
gaussian_noise      sigma 0.08 0.12 0.18 0.26 0.38                    intensity
shot_noise          rate 60 25 12 5 3: ``Poisson(x * rate) / rate``   events per unit intensity
impulse_noise       amount 0.03 0.06 0.09 0.17 0.27                   fraction of values set to 0/1
defocus_blur        disk radius 3 4 6 8 10, anti-alias sigma 0.1      pixels (scaled)
                    0.5 0.5 0.5 0.5
motion_blur         radius 10 15 15 15 20, sigma 3 5 8 12 15          pixels (scaled)
zoom_blur           zooms ``arange(1, stop, step)``, stop 1.11 1.16   zoom factor
                    1.21 1.26 1.31, step .01 .01 .02 .02 .03
fog                 strength 1.5 2 2.5 2.5 3, decay 2 2 1.7 1.5 1.4   intensity, per octave
brightness          HSV value + 0.1 0.2 0.3 0.4 0.5                   intensity
contrast            factor 0.4 0.3 0.2 0.1 0.05 about the mean        -
pixelate            side factor 0.6 0.5 0.4 0.3 0.25 (box down, up)   -
jpeg_compression    quality 25 18 15 10 7 (Pillow)                    -
speckle_noise       sigma 0.15 0.2 0.35 0.45 0.6: ``x + x * N``       -
gaussian_blur       sigma 1 2 3 4 6                                   pixels (scaled)
saturate            HSV saturation * 0.3 0.1 2 5 20, + 0 0 0 0.1 0.2  -
==================  ================================================  ==============================

**Small images.** ImageNet-C corrupts 224 x 224 crops. A parameter in pixels is multiplied by
``side / 224``, ``side`` the image's shorter side (0.286 for the demo's 64 x 64 crops), so a blur
covers the same fraction of the picture: defocus radii 0.86-2.86 px, Gaussian-blur sigmas
0.29-1.71 px, motion-blur trails of 7-13 taps. The authors' own 64 x 64 variant
(``make_imagenet_64_c.py`` in the same repository, re-tuned by hand) is close: defocus radii 0.5 1
1.5 2.5 3, Gaussian-blur sigmas 0.5 0.75 1 1.25 1.5. So that sub-pixel blurs still blur, the
defocus disk is rasterised by its area in each pixel (8 x 8 samples) rather than by testing pixel
centres, and the Gaussian blur uses the discrete Gaussian kernel, whose variance is sigma^2 at any
sigma (a sampled Gaussian of sigma 0.29 px leaves a picture unchanged). Fog's fractal is drawn on
the smallest power-of-two square covering the image (256 for 224, 64 for 64), so its coarsest
octave spans the picture at both sizes. Parameters without a length (noise levels, intensity
shifts and factors, JPEG qualities, zoom and pixelation factors) are kept as published. At 224 px
every value is ImageNet-C's; the kernels differ from its script's where said (disk, Gaussian,
the motion trail's taps split bilinearly rather than rounded), and values are rounded to uint8
where the script truncates.

Not here: glass blur (a sequential pixel-swapping loop, slow in Python), snow and frost (frost
needs the released frost photographs), elastic transform and spatter.

:data:`CORRUPTIONS` maps each name to ``f(image, severity, rng) -> image``: ``image`` an (H, W, 3)
uint8 RGB array, ``severity`` in 1..5, ``rng`` a :class:`numpy.random.Generator` (the only source
of randomness: the same generator state gives the same output).
"""
import io
import math
from typing import Callable, Dict

import cv2
import numpy as np
from PIL import Image

REFERENCE_SIDE = 224  # ImageNet-C's crops: the side its pixel parameters are given for

# ImageNet-C's parameters per severity 1..5 (make_imagenet_c.py, see the module docstring)
GAUSSIAN_NOISE = (0.08, 0.12, 0.18, 0.26, 0.38)
SHOT_NOISE = (60, 25, 12, 5, 3)
IMPULSE_NOISE = (0.03, 0.06, 0.09, 0.17, 0.27)
DEFOCUS_BLUR = ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5))  # (radius, anti-alias sigma), pixels
MOTION_BLUR = ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15))  # (radius, sigma), pixels
ZOOM_BLUR = ((1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03))  # arange(1, stop, step)
FOG = ((1.5, 2.0), (2.0, 2.0), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4))  # (strength, octave decay)
BRIGHTNESS = (0.1, 0.2, 0.3, 0.4, 0.5)
CONTRAST = (0.4, 0.3, 0.2, 0.1, 0.05)
PIXELATE = (0.6, 0.5, 0.4, 0.3, 0.25)
JPEG_QUALITY = (25, 18, 15, 10, 7)
SPECKLE_NOISE = (0.15, 0.2, 0.35, 0.45, 0.6)
GAUSSIAN_BLUR = (1, 2, 3, 4, 6)  # sigma, pixels
SATURATE = ((0.3, 0.0), (0.1, 0.0), (2.0, 0.0), (5.0, 0.1), (20.0, 0.2))  # (factor, shift)


def pixel_scale(img: np.ndarray) -> float:
    """The factor for parameters given in pixels of ImageNet-C's 224 crops: shorter side / 224."""
    return min(img.shape[:2]) / REFERENCE_SIDE


def _float(img: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W, 3) float32 in [0, 1]."""
    return img.astype(np.float32) / 255


def _uint8(x: np.ndarray) -> np.ndarray:
    """(H, W, 3) float in [0, 1] (clipped) -> (H, W, 3) uint8, rounded."""
    return np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)


def discrete_gaussian(sigma: float) -> np.ndarray:
    """(2N + 1,) float64 kernel summing to 1: the discrete Gaussian, tap ``n`` = ``exp(-t) I_n(t)``
    with ``t = sigma^2`` and ``I_n`` the modified Bessel function (Lindeberg), cut at
    ``N = max(2, ceil(4 sigma))``. Its variance is ``sigma^2`` and its frequency response
    ``exp(-t (1 - cos w))`` at any sigma; the sampled Gaussian (what skimage's filter uses) agrees
    with it from sigma = 1 up, ImageNet-C's values, but at 0.3 px it is nearly the identity."""
    t, taps = sigma ** 2, max(2, int(np.ceil(4 * sigma)))
    n = np.arange(taps + 1)[None, :]
    k = np.arange(int(t) + 40)[:, None]  # I_n(t) = sum_k (t / 2)^(2k + n) / (k! (k + n)!), in logs
    log_terms = (2 * k + n) * np.log(t / 2) - _log_factorial(k) - _log_factorial(k + n)
    top = log_terms.max(axis=0)
    half = np.exp(top - t + np.log(np.exp(log_terms - top).sum(axis=0)))  # exp(-t) I_n(t), n = 0..N
    kernel = np.concatenate([half[:0:-1], half])
    return kernel / kernel.sum()


def _log_factorial(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma)(x + 1.0)


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W, C) float32 filtered by the discrete Gaussian of ``sigma`` pixels along both axes."""
    kernel = discrete_gaussian(sigma).astype(np.float32)
    return cv2.sepFilter2D(x, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT_101)


def _hsv_map(img: np.ndarray, channel: int, fn) -> np.ndarray:
    """Applies ``fn`` to HSV channel ``channel`` (1: saturation, 2: value, both in [0, 1]),
    clipped to [0, 1]; (H, W, 3) uint8 -> (H, W, 3) float32 RGB."""
    hsv = cv2.cvtColor(_float(img), cv2.COLOR_RGB2HSV)  # float32: H in [0, 360), S and V in [0, 1]
    hsv[..., channel] = np.clip(fn(hsv[..., channel]), 0, 1)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


# ---------------------------------------------------------------- noise

def gaussian_noise(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Additive white noise of standard deviation sigma per value. (H, W, 3) uint8 -> same."""
    sigma = GAUSSIAN_NOISE[severity - 1]
    return _uint8(_float(img) + rng.normal(0, sigma, img.shape))


def shot_noise(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Photon noise: each value a Poisson count of mean ``x * rate``, divided by ``rate``."""
    rate = SHOT_NOISE[severity - 1]
    return _uint8(rng.poisson(_float(img) * rate) / rate)


def impulse_noise(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper noise: each value (each channel apart) is, with probability ``amount``,
    set to 0 or 1 with equal odds."""
    amount = IMPULSE_NOISE[severity - 1]
    x = _float(img)
    hit = rng.random(img.shape) < amount
    salt = rng.random(img.shape) < 0.5
    x[hit] = salt[hit]
    return _uint8(x)


def speckle_noise(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative noise: ``x + x * N(0, sigma)`` (an extra corruption)."""
    sigma = SPECKLE_NOISE[severity - 1]
    x = _float(img)
    return _uint8(x + x * rng.normal(0, sigma, img.shape))


# ---------------------------------------------------------------- blur

def _disk_kernel(radius: float, alias_sigma: float) -> np.ndarray:
    """(k, k) float32 kernel summing to 1: the area of each pixel inside a disk of ``radius``
    pixels (8 x 8 samples per pixel), then smoothed by a 3 x 3 Gaussian of ``alias_sigma``."""
    half, sub = int(np.ceil(radius)) + 1, 8
    u = (np.arange((2 * half + 1) * sub) + 0.5) / sub - half - 0.5  # sample positions, pixel centres at integers
    inside = (u[:, None] ** 2 + u[None, :] ** 2 <= radius ** 2).astype(np.float32)
    kernel = inside.reshape(2 * half + 1, sub, 2 * half + 1, sub).mean(axis=(1, 3))
    kernel = cv2.GaussianBlur(kernel, (3, 3), sigmaX=alias_sigma) if alias_sigma > 0 else kernel
    return kernel / kernel.sum()


def defocus_blur(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Convolution with an anti-aliased disk (an out-of-focus lens). Deterministic (``rng`` unused)."""
    radius, alias_sigma = DEFOCUS_BLUR[severity - 1]
    scale = pixel_scale(img)
    kernel = _disk_kernel(radius * scale, alias_sigma * scale)
    return _uint8(cv2.filter2D(_float(img), -1, kernel, borderType=cv2.BORDER_REFLECT_101))


def _motion_kernel(radius: float, sigma: float, angle: float) -> np.ndarray:
    """(k, k) float32 kernel summing to 1: a one-sided trail of ``2 * ceil(radius) + 1`` taps, one
    pixel apart along ``angle`` degrees, weighted ``exp(-i^2 / (2 sigma^2))`` (ImageMagick's
    motion blur, which ImageNet-C used), each tap split bilinearly over its four pixels."""
    taps = 2 * int(np.ceil(radius)) + 1
    i = np.arange(taps, dtype=np.float64)
    weights = np.exp(-i ** 2 / (2 * sigma ** 2))
    half = taps  # room for the trail in every direction
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float64)
    xs = half + i * np.cos(np.deg2rad(angle))
    ys = half - i * np.sin(np.deg2rad(angle))
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    for dy, dx, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        np.add.at(kernel, (y0 + dy, x0 + dx), weights * w)
    return (kernel / kernel.sum()).astype(np.float32)


def motion_blur(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Convolution with a motion trail at an angle drawn uniformly in [-45, 45] degrees."""
    radius, sigma = MOTION_BLUR[severity - 1]
    scale = pixel_scale(img)
    kernel = _motion_kernel(radius * scale, sigma * scale, rng.uniform(-45, 45))
    return _uint8(cv2.filter2D(_float(img), -1, kernel, borderType=cv2.BORDER_REFLECT_101))


def zoom_blur(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """The mean of the image and its zooms about the centre by ``arange(1, stop, step)`` (bilinear),
    as a camera moving towards the scene. Deterministic (``rng`` unused)."""
    stop, step = ZOOM_BLUR[severity - 1]
    x = _float(img)
    h, w = x.shape[:2]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    total = x.copy()
    zooms = np.arange(1, stop, step)
    for z in zooms:
        m = np.float32([[z, 0, (1 - z) * cx], [0, z, (1 - z) * cy]])
        total += cv2.warpAffine(x, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return _uint8(total / (len(zooms) + 1))


def gaussian_blur(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian filter (an extra corruption). Deterministic (``rng`` unused)."""
    return _uint8(_gaussian(_float(img), GAUSSIAN_BLUR[severity - 1] * pixel_scale(img)))


# ---------------------------------------------------------------- weather

def plasma_fractal(size: int, decay: float, rng: np.random.Generator) -> np.ndarray:
    """(size, size) float64 map in [0, 1], ``size`` a power of two: diamond-square midpoint
    displacement on a torus. Octave ``k`` (grid step ``size / 2**k``) displaces the new midpoints
    by ``uniform(-1, 1) * (100 / decay**k)**2``, as ImageNet-C's fog does."""
    assert size & (size - 1) == 0, size
    m = np.zeros((size, size))
    step, wibble = size, 100.0
    while step >= 2:
        half, amp = step // 2, wibble ** 2
        corners = m[0::step, 0::step]
        # square step: the centre of each cell = mean of its four corners + noise
        around = corners + np.roll(corners, -1, 0) + np.roll(corners, -1, 1) + np.roll(corners, (-1, -1), (0, 1))
        m[half::step, half::step] = around / 4 + amp * rng.uniform(-1, 1, corners.shape)
        centres = m[half::step, half::step]
        # diamond step: the edge midpoints = mean of their two corners and two centres + noise
        horizontal = corners + np.roll(corners, -1, 1) + centres + np.roll(centres, 1, 0)
        m[0::step, half::step] = horizontal / 4 + amp * rng.uniform(-1, 1, corners.shape)
        vertical = corners + np.roll(corners, -1, 0) + centres + np.roll(centres, 1, 1)
        m[half::step, 0::step] = vertical / 4 + amp * rng.uniform(-1, 1, corners.shape)
        step, wibble = half, wibble / decay
    m -= m.min()
    return m / m.max()


def fog(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Adds ``strength`` times a plasma fractal, then rescales so the image's maximum stays put:
    ``(x + s * p) * max(x) / (max(x) + s)``."""
    strength, decay = FOG[severity - 1]
    x = _float(img)
    h, w = x.shape[:2]
    size = 1 << int(np.ceil(np.log2(max(h, w))))
    top = x.max()
    x = x + strength * plasma_fractal(size, decay, rng)[:h, :w, None].astype(np.float32)
    return _uint8(x * top / (top + strength))


def brightness(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Adds a shift to the HSV value (clipped to 1). Deterministic (``rng`` unused)."""
    shift = BRIGHTNESS[severity - 1]
    return _uint8(_hsv_map(img, 2, lambda v: v + shift))


# ---------------------------------------------------------------- digital

def contrast(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Scales each channel's deviations from its mean over the image by ``factor``.
    Deterministic (``rng`` unused)."""
    factor = CONTRAST[severity - 1]
    x = _float(img)
    mean = x.mean(axis=(0, 1), keepdims=True)
    return _uint8((x - mean) * factor + mean)


def pixelate(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Box-downsamples each side by ``factor`` and box-upsamples back (Pillow). Deterministic
    (``rng`` unused)."""
    factor = PIXELATE[severity - 1]
    pil = Image.fromarray(img)
    w, h = pil.size
    small = pil.resize((int(w * factor), int(h * factor)), Image.BOX)
    return np.asarray(small.resize((w, h), Image.BOX))


def jpeg_compression(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Encodes as JPEG at a low quality with Pillow's defaults (4:2:0 chroma) and decodes.
    Deterministic (``rng`` unused)."""
    buffer = io.BytesIO()
    Image.fromarray(img).save(buffer, format='JPEG', quality=JPEG_QUALITY[severity - 1])
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert('RGB'))


def saturate(img: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """HSV saturation ``* factor + shift`` (an extra corruption): severities 1-2 fade the colours,
    3-5 exaggerate them, so its change from the clean image is not monotone in severity.
    Deterministic (``rng`` unused)."""
    factor, shift = SATURATE[severity - 1]
    return _uint8(_hsv_map(img, 1, lambda s: s * factor + shift))


# (H, W, 3) uint8 RGB, severity 1..5, generator -> (H, W, 3) uint8 RGB
Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

# ImageNet-C's names, in its order: noise, blur, weather, digital, then the extras
CORRUPTIONS: Dict[str, Corruption] = {
    f.__name__: f for f in (gaussian_noise, shot_noise, impulse_noise, defocus_blur, motion_blur, zoom_blur, fog,
                            brightness, contrast, pixelate, jpeg_compression,
                            speckle_noise, gaussian_blur, saturate)}
