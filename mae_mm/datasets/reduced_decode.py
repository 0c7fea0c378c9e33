"""Decoding only the pixels a crop needs: the JPEG's DCT scale, the crop at that scale, the resize.

A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size in the DCT domain (libjpeg-turbo's scaled
inverse DCT): the entropy decoding is the same, the inverse DCT, upsampling and colour conversion
shrink by 4, 16 or 64. A crop that is resized to ``out`` pixels needs no more than ``out`` pixels
along each side, so it is decoded at the smallest scale that leaves it at least that size.

The libraries were chosen by measurement (``tools/benchmark_data.py --decoders``,
``docs/benchmark.md``): OpenCV's ``imdecode`` with its ``IMREAD_REDUCED_COLOR_{2,4,8}`` flags
is within 7% of the fastest candidate at every scale (PyTurboJPEG ties, simplejpeg is 3-7% ahead
here; Pillow's ``draft`` and torchvision's ``decode_jpeg`` are slower), is the full-size decoder
of before (so full-size decodes stay bit-identical), gives BGR and applies the EXIF orientation
and the CMYK conversion itself. None of those libraries decodes a
region with the system's libjpeg-turbo 2.1 (TurboJPEG's cropping region needs 3.0). The resize
is torch's uint8 bicubic with antialias (torchvision's ``resize`` kernel), ~4x Pillow's here at a
mean difference of 0.035 levels from it.

Tensor layouts: images are numpy (H, W, 3) uint8 BGR, as mmcv's.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch
from PIL import Image

_REDUCED_FLAGS = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
                  8: cv2.IMREAD_REDUCED_COLOR_8}
DCT_REDUCTIONS = (8, 4, 2)  # the scale denominators tried, largest first
_ORIENTATION_TAG = 0x0112
_TRANSPOSED = (5, 6, 7, 8)  # EXIF orientations that swap width and height
_RESIZE_MODES = ('bicubic', 'bilinear')


def reducible_jpeg(probe: Image.Image, backend: str = 'cv2') -> bool:
    """Whether a probed file is a JPEG that OpenCV decodes at a reduced scale as it would at full
    size: baseline or progressive JPEG (or a camera's MPO) in RGB, greyscale or CMYK."""
    return backend == 'cv2' and probe.format in ('JPEG', 'MPO') and probe.mode in ('RGB', 'L', 'CMYK')


def oriented_size(probe: Image.Image, apply_orientation: bool = True) -> Tuple[int, int]:
    """(h, w) of the picture as decoded: the header's size, swapped by an EXIF orientation of 5-8."""
    w, h = probe.size
    if apply_orientation and probe.getexif().get(_ORIENTATION_TAG) in _TRANSPOSED:
        return w, h
    return h, w


def dct_reduction(length: int, needed: int) -> int:
    """The largest of 8, 4, 2 by which ``length`` pixels can be divided leaving at least ``needed``,
    else 1."""
    for k in DCT_REDUCTIONS:
        if length // k >= needed:
            return k
    return 1


def decode_reduced_jpeg(content: bytes, reduction: int, apply_orientation: bool = True):
    """A JPEG decoded at 1/``reduction`` scale: (ceil(H / k), ceil(W / k), 3) uint8 BGR, or None
    when OpenCV cannot decode it."""
    flags = _REDUCED_FLAGS[reduction] | (0 if apply_orientation else cv2.IMREAD_IGNORE_ORIENTATION)
    return cv2.imdecode(np.frombuffer(content, np.uint8), flags)


def crop_at_scale(img: np.ndarray, box: Sequence[int], full_size: Tuple[int, int]) -> np.ndarray:
    """The part of ``img`` (a decode of a ``full_size`` (h, w) picture at a reduced scale) that
    ``box`` (top, left, height, width in full-size pixels) covers; edges rounded to the nearest
    decoded pixel. A view, (h', w', 3)."""
    top, left, height, width = box
    ry, rx = img.shape[0] / full_size[0], img.shape[1] / full_size[1]
    y0, x0 = round(top * ry), round(left * rx)
    y1 = min(img.shape[0], max(y0 + 1, round((top + height) * ry)))
    x1 = min(img.shape[1], max(x0 + 1, round((left + width) * rx)))
    return img[y0:y1, x0:x1]


def resize_uint8(img: np.ndarray, size: Tuple[int, int], interpolation: str = 'bicubic') -> np.ndarray:
    """(h, w, 3) uint8 -> (size[0], size[1], 3) uint8, contiguous, antialiased as Pillow's.

    torch's uint8 kernel (the one torchvision's ``resize`` calls), on the image as a channels-last
    (1, 3, h, w) tensor, so that neither the input nor the output is transposed in memory; bicubic
    (a = -0.5, Pillow's) or bilinear.
    """
    if interpolation not in _RESIZE_MODES:
        raise ValueError(f'interpolation must be one of {_RESIZE_MODES}, not {interpolation!r}')
    img = np.ascontiguousarray(img)
    if img.shape[:2] == tuple(size):
        return img
    nchw = torch.from_numpy(img)[None].permute(0, 3, 1, 2)  # channels-last strides
    out = torch.nn.functional.interpolate(nchw, size=tuple(size), mode=interpolation, antialias=True,
                                          align_corners=False)
    return out.permute(0, 2, 3, 1)[0].numpy()
