"""``LoadCheckedImage`` + ``RandomResizedCrop`` in one step, decoding only what the crop needs.

The training pipelines (pretraining and fine-tuning) start with :class:`DecodeRandomResizedCrop`
instead of ``LoadCheckedImage`` followed by mmpretrain's ``RandomResizedCrop(backend='pillow')``:

1. the file is read and checked as ``LoadCheckedImage`` does (empty, not an image, cut header,
   truncated JPEG or PNG: :class:`~mae_mm.datasets.transforms.BadImageError` naming the file);
2. the crop box is drawn on the picture's size from the header, after the EXIF orientation, by
   :class:`~mae_mm.datasets.gpu_decode.RandomResizedCropParams` (mmpretrain's own draw, the same
   ``np.random`` calls in the same order: for the same seed, the boxes of today's pipeline);
3. a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) that leaves the box at least the
   output size (:mod:`mae_mm.datasets.reduced_decode`); any other file at full size, through
   ``LoadCheckedImage``'s decode (16-bit, palette, alpha handled as there);
4. the box is cut out of the decode and resized to the output with torchvision's uint8
   antialiased kernel.

``reduced_decode=False`` is today's path exactly: a full decode, ``mmcv.imcrop`` and Pillow's
resize, bit-identical to ``LoadCheckedImage`` + ``RandomResizedCrop(backend='pillow')``.
"""
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np

from ..registry import TRANSFORMS
from .reduced_decode import crop_at_scale, dct_reduction, oriented_size, reducible_jpeg, resize_uint8
from .transforms import BadImageError, LoadCheckedImage


@TRANSFORMS.register_module()
class DecodeRandomResizedCrop(LoadCheckedImage):
    """Loads an image and takes a random resized crop of it, decoding only what the crop needs.

    Output: ``img`` (scale_h, scale_w, 3) uint8 BGR, ``img_shape`` (scale_h, scale_w),
    ``ori_shape`` (H, W) of the picture, ``crop_box`` (top, left, height, width) in its pixels,
    ``dct_reduction`` (1, 2, 4 or 8: the scale the file was decoded at).

    Args:
        scale (int | tuple): output (h, w), as mmpretrain ``RandomResizedCrop``'s ``scale``.
        crop_ratio_range (tuple): area fraction of the crop; (0.2, 1.0) in MAE pretraining,
            (0.08, 1.0) in fine-tuning.
        aspect_ratio_range (tuple): aspect-ratio range of the crop.
        max_attempts (int): draws before the central-crop fallback.
        interpolation (str): ``'bicubic'`` (default) or ``'bilinear'``, antialiased as Pillow's.
        reduced_decode (bool): True (default): the fast path above. False: today's full decode
            and Pillow resize.
        **kwargs: ``LoadCheckedImage``'s (``on_error``, ``color_type``, ``imdecode_backend``,
            ``backend_args``); ``min_short_edge`` does not apply here.
    """

    def __init__(self, scale: Union[int, Sequence[int]], crop_ratio_range=(0.08, 1.0),
                 aspect_ratio_range=(3. / 4., 4. / 3.), max_attempts: int = 10, interpolation: str = 'bicubic',
                 reduced_decode: bool = True, **kwargs) -> None:
        if kwargs.get('min_short_edge') is not None:
            raise ValueError('min_short_edge is for a full-image decode; DecodeRandomResizedCrop reduces by the crop')
        if kwargs.get('to_float32'):
            raise ValueError('to_float32 is not supported: the crop is resized as uint8')
        if not isinstance(reduced_decode, bool):
            raise ValueError(f'reduced_decode must be True or False, not {reduced_decode!r}')
        super().__init__(**kwargs)
        from .gpu_decode import RandomResizedCropParams  # imports mmpretrain: only when built
        self.params = RandomResizedCropParams(scale, crop_ratio_range=crop_ratio_range,
                                              aspect_ratio_range=aspect_ratio_range, max_attempts=max_attempts,
                                              interpolation=interpolation)
        self.reduced_decode = reduced_decode

    @property
    def out_size(self) -> Tuple[int, int]:
        return tuple(self.params.crop.scale)

    def transform(self, results: dict) -> Optional[dict]:
        loaded = self._checked(self._load_crop, results['img_path'])
        if loaded is None:
            return None
        img, size, box, reduction = loaded
        results.update(img=img, img_shape=img.shape[:2], ori_shape=size, crop_box=box, dct_reduction=reduction)
        return results

    def _load_crop(self, filename: str):
        """(crop (h, w, 3) uint8 BGR at the output size, picture (H, W), box, DCT reduction)."""
        content, probe = self._probe(filename)
        size = None
        if self.reduced_decode and reducible_jpeg(probe, self.imdecode_backend):
            try:
                size = oriented_size(probe, self.color_type == 'color')
            except Exception:  # an EXIF block Pillow cannot parse: the full decode says the size
                pass
        if size is not None:  # the box is drawn on the header's size; the decode follows the box
            box = self.params.draw(size)
            reduction = min(dct_reduction(box[2], self.out_size[0]), dct_reduction(box[3], self.out_size[1]))
            img = self._decode(filename, content, probe, reduction)
            expected = (-(-size[0] // reduction), -(-size[1] // reduction))
            if img.shape[:2] != expected:
                raise BadImageError(filename, f'the header says {size[0]}x{size[1]} (h x w, after EXIF orientation) '
                                              f'but a 1/{reduction} decode gave {img.shape[:2]}, not {expected}')
            out = resize_uint8(crop_at_scale(img, box, size), self.out_size, self.params.interpolation)
            return out, size, box, reduction
        img = self._decode(filename, content, probe)
        size = img.shape[:2]
        box = self.params.draw(size)
        top, left, height, width = box
        if self.reduced_decode:
            out = resize_uint8(img[top:top + height, left:left + width], self.out_size, self.params.interpolation)
        else:  # exactly mmpretrain's RandomResizedCrop(backend='pillow') after LoadCheckedImage
            crop = mmcv.imcrop(img, bboxes=np.array([left, top, left + width - 1, top + height - 1]))
            out = mmcv.imresize(crop, tuple(self.out_size[::-1]), interpolation=self.params.interpolation,
                                backend='pillow')
        return out, size, box, 1

    def __repr__(self):
        return (f'{self.__class__.__name__}(scale={self.out_size}, crop_ratio_range={self.params.crop_ratio_range}, '
                f"interpolation='{self.params.interpolation}', reduced_decode={self.reduced_decode}, "
                f"on_error='{self.on_error}')")
