"""The JPEG decoders and resize kernels the reduced decode was chosen from, timed side by side.

Decoders, each at full size and at the DCT scales it offers (1/2, 1/4, 1/8), to (H, W, 3) uint8:
OpenCV's ``imdecode`` (``IMREAD_REDUCED_COLOR_k``), Pillow with ``draft``, PyTurboJPEG on the
system's libturbojpeg, simplejpeg (its own libjpeg-turbo), torchvision's ``decode_jpeg`` (full size
only). A library that is not installed is reported as such.

Resize kernels, crop -> 224 x 224 uint8, each with its mean absolute difference in levels from
Pillow's antialiased bicubic (today's resize): torch's uint8 bicubic with antialias on a
channels-last view (:func:`mae_mm.datasets.reduced_decode.resize_uint8`, the chosen one),
torchvision's ``resize`` (the same kernel on (3, h, w)), bicubic and bilinear, OpenCV's
``INTER_AREA`` and ``INTER_CUBIC`` (no antialias).
"""
import io
import statistics
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from PIL import Image

from .data import median_rate

SCALES = (1, 2, 4, 8)


def _opencv():
    import cv2
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}
    return lambda data, k: cv2.imdecode(np.frombuffer(data, np.uint8), flags[k])


def _pillow_draft():
    def decode(data, k):
        im = Image.open(io.BytesIO(data))
        if k > 1:
            im.draft('RGB', (im.size[0] // k, im.size[1] // k))
        return np.asarray(im.convert('RGB'))
    return decode


def _pyturbojpeg():
    from turbojpeg import TJPF_BGR, TurboJPEG
    jpeg = TurboJPEG()
    return lambda data, k: jpeg.decode(data, pixel_format=TJPF_BGR, scaling_factor=None if k == 1 else (1, k))


def _simplejpeg():
    import simplejpeg

    def decode(data, k):  # the smallest scale that keeps at least ceil(size / k): 1/k
        h, w = simplejpeg.decode_jpeg_header(data)[:2]
        return simplejpeg.decode_jpeg(data, colorspace='BGR', min_height=-(-h // k), min_width=-(-w // k))
    return decode


def _torchvision():
    from torchvision.io import decode_jpeg

    def decode(data, k):
        if k != 1:
            raise NotImplementedError
        return decode_jpeg(torch.frombuffer(bytearray(data), dtype=torch.uint8))
    return decode


DECODERS = {
    'OpenCV imdecode (IMREAD_REDUCED_COLOR_k)': _opencv,
    'Pillow (draft)': _pillow_draft,
    'PyTurboJPEG (system libturbojpeg)': _pyturbojpeg,
    'simplejpeg': _simplejpeg,
    'torchvision decode_jpeg': _torchvision,
}


def decoder_rates(paths: List[str], rounds: int = 5) -> Dict[str, Dict[int, Optional[float]]]:
    """{decoder: {k: img/s of a 1/k decode over ``paths``, None where not offered}}, or
    {decoder: 'not installed (...)'}. The decoders take turns, one pass over ``paths`` each per
    round, so that a shared machine's load changes fall on all of them; the median of ``rounds``."""
    import time
    datas = [open(p, 'rb').read() for p in paths]
    full = Image.open(io.BytesIO(datas[0])).size  # (w, h)
    out, offered = {}, []
    for name, make in DECODERS.items():
        try:
            decode = make()
        except (ImportError, RuntimeError, OSError) as err:
            out[name] = f'not installed ({type(err).__name__}: {str(err).splitlines()[0][:60]})'
            continue
        out[name] = {}
        for k in SCALES:
            try:
                shape = tuple(decode(datas[0], k).shape)  # also the warm-up
            except NotImplementedError:
                shape = None
            if shape is None or max(shape) > -(-max(full) // k):  # not offered, or the scale ignored
                out[name][k] = None
            else:
                offered.append((name, k, decode))
    passes = {(name, k): [] for name, k, _ in offered}
    for _ in range(max(3, rounds)):
        for name, k, decode in offered:
            start = time.perf_counter()
            for data in datas:
                decode(data, k)
            passes[name, k].append(len(datas) / (time.perf_counter() - start))
    for (name, k), rates in passes.items():
        out[name][k] = statistics.median(rates)
    return out


def _pillow_resize(crop, size):
    import mmcv
    return mmcv.imresize(crop, size[::-1], interpolation='bicubic', backend='pillow')


def _torch_resize(mode):
    from torchvision.transforms.v2 import InterpolationMode, functional
    interpolation = InterpolationMode.BICUBIC if mode == 'bicubic' else InterpolationMode.BILINEAR

    def resize(crop, size):
        chw = torch.from_numpy(crop).permute(2, 0, 1)
        return functional.resize(chw, list(size), interpolation=interpolation, antialias=True).permute(1, 2, 0).numpy()
    return resize


def _cv2_resize(flag_name):
    import cv2
    return lambda crop, size: cv2.resize(crop, size[::-1], interpolation=getattr(cv2, flag_name))


def _chosen():
    from mae_mm.datasets.reduced_decode import resize_uint8
    return lambda crop, size: resize_uint8(crop, size, 'bicubic')


RESIZERS = {
    'Pillow bicubic, antialiased (today)': lambda: _pillow_resize,
    'torch uint8 bicubic, antialias, channels-last (chosen)': _chosen,
    'torchvision uint8 bicubic, antialias': lambda: _torch_resize('bicubic'),
    'torchvision uint8 bilinear, antialias': lambda: _torch_resize('bilinear'),
    'OpenCV INTER_AREA': lambda: _cv2_resize('INTER_AREA'),
    'OpenCV INTER_CUBIC (no antialias)': lambda: _cv2_resize('INTER_CUBIC'),
}


def random_crops(paths: List[str], count: int = 32, seed: int = 0) -> List[np.ndarray]:
    """RandomResizedCrop-like boxes (area 0.2-1, aspect 3/4-4/3) of the decoded files."""
    import cv2
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(count):
        img = cv2.imread(paths[i % len(paths)])
        h, w = img.shape[:2]
        area = rng.uniform(0.2, 1.0) * h * w
        ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        ch, cw = min(h, int(round(np.sqrt(area / ratio)))), min(w, int(round(np.sqrt(area * ratio))))
        top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        crops.append(img[top:top + ch, left:left + cw])
    return crops


def resize_rates(crops: List[np.ndarray], seconds: float, size=(224, 224)) -> Dict[str, tuple]:
    """{kernel: (img/s, mean |difference| in levels from Pillow's bicubic)} over ``crops``."""
    reference = [_pillow_resize(c, size).astype(np.float64) for c in crops]
    out = {}
    for name, make in RESIZERS.items():
        resize: Callable = make()
        mad = float(np.mean([np.abs(resize(c, size) - r).mean() for c, r in zip(crops, reference)]))
        out[name] = (median_rate(lambda: [resize(c, size) for c in crops], len(crops), seconds), mad)
    return out


def profile_reduced_decode(paths: List[str], repeats: int = 3, scale: int = 224) -> Dict[str, float]:
    """Milliseconds per image of each stage of :class:`~mae_mm.datasets.crop_decode.DecodeRandomResizedCrop`
    (RandomResizedCrop 0.2-1, bicubic) + flip + pack over ``paths``, stage by stage, and of a 1/8 decode
    of the same files: its entropy decoding is the whole file's, its inverse DCT keeps only the DC
    term, so it bounds from above the share that no decoder can skip."""
    import time

    from mmcv.transforms import RandomFlip
    from mmpretrain.datasets.transforms import PackInputs

    from mae_mm.datasets.crop_decode import DecodeRandomResizedCrop
    from mae_mm.datasets.reduced_decode import (crop_at_scale, dct_reduction, decode_reduced_jpeg, oriented_size,
                                                resize_uint8)
    crop = DecodeRandomResizedCrop(scale, crop_ratio_range=(0.2, 1.0))
    flip, pack = RandomFlip(prob=0.5), PackInputs()
    totals = dict.fromkeys(['read file', 'header, checks, EXIF', 'crop box draw', 'decode at the chosen scale',
                            'crop + resize', 'flip + pack', '(1/8 decode of the same files)'], 0.0)
    np.random.seed(0)
    for _ in range(repeats):
        for path in paths:
            marks = [time.perf_counter()]
            content = crop._read(path)
            marks.append(time.perf_counter())
            size = oriented_size(crop._parse(path, content))
            marks.append(time.perf_counter())
            box = crop.params.draw(size)
            k = min(dct_reduction(box[2], scale), dct_reduction(box[3], scale))
            marks.append(time.perf_counter())
            img = decode_reduced_jpeg(content, k)
            marks.append(time.perf_counter())
            out = resize_uint8(crop_at_scale(img, box, size), (scale, scale))
            marks.append(time.perf_counter())
            pack(flip(dict(img=out, img_shape=out.shape[:2])))
            marks.append(time.perf_counter())
            decode_reduced_jpeg(content, 8)
            marks.append(time.perf_counter())
            steps = [b - a for a, b in zip(marks, marks[1:])]
            for name, seconds in zip(totals, steps):
                totals[name] += seconds
    return {name: 1000 * seconds / (repeats * len(paths)) for name, seconds in totals.items()}
