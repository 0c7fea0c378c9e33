"""The GPU decode path of MAE pretraining: the workers read bytes, the GPU decodes and crops.

The CPU pipeline (``LoadImageFromFile`` -> ``RandomResizedCrop(scale 0.2-1, bicubic)`` ->
``RandomFlip(0.5)`` -> ``PackInputs``, then the data preprocessor's normalisation) is split in two:

- the CPU workers' transforms, one per CPU transform: :class:`LoadJpegBytes` reads the
  file's bytes and its header only, :class:`RandomResizedCropParams` and
  :class:`RandomFlipParams` draw the crop box and the flip with the very methods of
  mmpretrain's ``RandomResizedCrop`` and mmcv's ``RandomFlip``, in the same order, so the
  same seed gives the same boxes and flips as the CPU pipeline, and :class:`PackJpegBytes`
  packs bytes and draws;
- the model's data preprocessor,
  :class:`~mae_mm.models.mae.jpeg_decode_preprocessor.JpegDecodeDataPreprocessor`, decodes,
  crops, resizes, flips and normalises the batch on the model's device.

The batch must be collated with ``pseudo_collate`` (byte strings differ in length). This module
imports mmpretrain; the config of the GPU decode path imports it through ``custom_imports``.
"""
import io

import numpy as np
import torch
from mmcv.transforms import BaseTransform, RandomFlip
from mmengine.fileio import get
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.structures import DataSample
from PIL import Image

from mae_mm.registry import TRANSFORMS

# The workers' whole pipeline on this path: it does RandomResizedCrop + flip and nothing else
# (mae_mm.launch.config_checks.check_gpu_decode_pipeline refuses any other step at launch).
GPU_DECODE_TRANSFORMS = ('LoadJpegBytes', 'RandomResizedCropParams', 'RandomFlipParams', 'PackJpegBytes')


@TRANSFORMS.register_module()
class LoadJpegBytes(BaseTransform):
    """Reads a JPEG file's bytes and parses its header; decodes nothing.

    Args:
        non_jpeg (str): What to do with a file that is not a JPEG (ImageNet's train set holds
            one PNG and 22 CMYK JPEGs): ``'error'`` raises a ``ValueError`` naming it;
            ``'reencode'`` decodes it here and re-encodes it as an RGB JPEG at quality 95 (the
            CMYK ones too), so the batch stays all-JPEG.
        backend_args (dict, optional): mmengine file backend arguments.

    Adds ``img_bytes`` (the file as a 1-D uint8 tensor) and ``ori_shape`` / ``img_shape``
    (h, w).
    """

    def __init__(self, non_jpeg: str = 'error', backend_args=None):
        if non_jpeg not in ('error', 'reencode'):
            raise ValueError(f"non_jpeg must be 'error' or 'reencode', got {non_jpeg!r}")
        self.non_jpeg = non_jpeg
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        data = get(path, backend_args=self.backend_args)
        try:
            with Image.open(io.BytesIO(data)) as img:  # parses the header only
                fmt, mode, (w, h) = img.format, img.mode, img.size
                plain_jpeg = fmt in ('JPEG', 'MPO') and mode in ('RGB', 'L')  # MPO: camera JPEGs
                if not plain_jpeg and self.non_jpeg == 'reencode':
                    out = io.BytesIO()
                    img.convert('RGB').save(out, format='JPEG', quality=95)
                    data, plain_jpeg = out.getvalue(), True
        except Exception as err:
            raise ValueError(f'{path}: not a readable image ({err})') from err
        if not plain_jpeg:
            raise ValueError(f'{path}: the GPU decode path reads RGB or greyscale JPEG files only, this one is '
                             f'{fmt} {mode} (LoadJpegBytes(non_jpeg="reencode") converts such files)')
        results['img_bytes'] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        results['ori_shape'] = results['img_shape'] = (h, w)
        return results


@TRANSFORMS.register_module()
class RandomResizedCropParams(BaseTransform):
    """Draws a RandomResizedCrop box with mmpretrain's own method; the crop happens on the GPU
    (or in :class:`~mae_mm.datasets.crop_decode.DecodeRandomResizedCrop`, which uses :meth:`draw`).

    Args:
        scale (int | tuple): Output size, as ``mmpretrain.RandomResizedCrop``'s.
        crop_ratio_range (tuple): Area fraction range of the crop, (0.2, 1.0) in MAE.
        aspect_ratio_range (tuple): Aspect-ratio range.
        max_attempts (int): Draws before the central-crop fallback.
        interpolation (str): ``'bicubic'`` or ``'bilinear'``, both antialiased as PIL's.

    Adds ``crop_box`` (top, left, height, width), ``crop_size`` (h, w) and ``interpolation``.
    """

    def __init__(self, scale, crop_ratio_range=(0.08, 1.0), aspect_ratio_range=(3. / 4., 4. / 3.),
                 max_attempts: int = 10, interpolation: str = 'bicubic'):
        if interpolation not in ('bicubic', 'bilinear'):
            raise ValueError(f'interpolation must be bicubic or bilinear, got {interpolation!r}')
        self.crop = RandomResizedCrop(scale, crop_ratio_range=crop_ratio_range,
                                      aspect_ratio_range=aspect_ratio_range, max_attempts=max_attempts)
        self.scale, self.crop_ratio_range, self.interpolation = self.crop.scale, crop_ratio_range, interpolation

    def draw(self, size) -> tuple:
        """A box (top, left, height, width) on a picture of ``size`` (h, w): the ``np.random`` draws
        of mmpretrain's ``RandomResizedCrop`` on an image of that size."""
        box = self.crop.rand_crop_params(np.empty((size[0], size[1], 0), np.uint8))  # reads the shape only
        return tuple(int(v) for v in box)

    def transform(self, results: dict) -> dict:
        results['crop_box'] = self.draw(results['img_shape'])
        results['crop_size'] = tuple(self.scale)  # mmpretrain's scale is (h, w): it resizes to scale[::-1] (w, h)
        results['interpolation'] = self.interpolation
        return results


@TRANSFORMS.register_module()
class RandomFlipParams(BaseTransform):
    """Draws a horizontal flip with mmcv ``RandomFlip``'s own method; adds ``flip`` (bool).

    Args:
        prob (float): Flip probability.
    """

    def __init__(self, prob: float = 0.5):
        self.flip = RandomFlip(prob=prob, direction='horizontal')

    def transform(self, results: dict) -> dict:
        results['flip'] = self.flip._choose_direction() == 'horizontal'
        return results


@TRANSFORMS.register_module()
class PackJpegBytes(BaseTransform):
    """``inputs``: the byte tensor; ``data_samples``: a ``DataSample`` carrying the drawn parameters."""

    KEYS = ('img_path', 'ori_shape', 'crop_box', 'crop_size', 'interpolation', 'flip')

    def transform(self, results: dict) -> dict:
        sample = DataSample(metainfo={k: results[k] for k in self.KEYS})
        return dict(inputs=results['img_bytes'], data_samples=sample)
