"""The model side of the GPU decode path: JPEG bytes in, normalised crops out, on the model's device.

The data workers (:mod:`mae_mm.datasets.gpu_decode`) read each file's bytes and draw its crop box
and flip; :class:`JpegDecodeDataPreprocessor` decodes the batch with ``torchvision.io.decode_jpeg``
on the model's device (nvJPEG on CUDA; libjpeg-turbo on CPU), crops each box, resizes it with
antialiased bicubic interpolation (PIL's bicubic filter widens with the downscale factor the same
way), rounds to uint8 levels as PIL does, flips and normalises. The config of the GPU decode path
imports this module through ``custom_imports``.
"""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.structures import BaseDataElement
from torchvision.io import ImageReadMode, decode_jpeg

from mae_mm.registry import MODELS
from .data_preprocessor import MAEDataPreprocessor


def decode_batch(files: Sequence[torch.Tensor], paths: Sequence[str], device: torch.device) -> List[torch.Tensor]:
    """JPEG byte tensors (CPU, 1-D uint8) -> RGB uint8 (3, h, w) images on ``device``.

    Decodes the batch in one call; when that fails, decodes file by file to name the culprit.
    """
    device = 'cuda' if device.type == 'cuda' else 'cpu'
    files = [f.cpu() for f in files]
    for data, path in zip(files, paths):
        if data.numel() < 4 or data[0] != 0xFF or data[1] != 0xD8:
            raise ValueError(f'{path}: not a JPEG file (no start-of-image marker)')
    try:
        return decode_jpeg(files, mode=ImageReadMode.RGB, device=device)
    except RuntimeError:
        for data, path in zip(files, paths):
            try:
                decode_jpeg(data, mode=ImageReadMode.RGB, device=device)
            except RuntimeError as err:
                raise ValueError(f'{path}: corrupt JPEG ({err})') from err
        raise


@MODELS.register_module()
class JpegDecodeDataPreprocessor(MAEDataPreprocessor):
    """Decodes, crops, resizes, flips and normalises a batch of JPEGs on the model's device.

    Args:
        to_rgb (bool): False: the decoder already gives RGB.
        **kwargs: :class:`MAEDataPreprocessor` arguments (``mean``, ``std``, ``non_blocking``).

    Input: ``inputs`` a list of 1-D uint8 byte tensors, ``data_samples`` their
    :class:`~mae_mm.datasets.gpu_decode.PackJpegBytes` samples (crop box, output size, interpolation, flip). Output:
    ``inputs`` float32 (B, 3, h, w) at the samples' ``crop_size``.
    """

    def __init__(self, to_rgb: bool = False, **kwargs):
        super().__init__(to_rgb=to_rgb, **kwargs)

    @staticmethod
    def crop_resize_flip(img: torch.Tensor, sample: BaseDataElement) -> torch.Tensor:
        """uint8 (3, h, w) -> float (3, *crop_size) in [0, 255], rounded to integer levels."""
        top, left, height, width = sample.crop_box
        patch = img[None, :, top:top + height, left:left + width].float()
        out = F.interpolate(patch, size=tuple(sample.crop_size), mode=sample.interpolation, align_corners=False,
                            antialias=True)[0]
        out = out.round_().clamp_(0, 255)  # PIL hands over uint8
        return out.flip(-1) if sample.flip else out

    @torch.compiler.disable  # a per-image loop over decoded images: not for tracing
    def forward(self, data: dict, training: bool = False) -> dict:
        samples = data['data_samples']
        paths = [s.img_path for s in samples]
        imgs = decode_batch(data['inputs'], paths, self.device)
        for img, sample in zip(imgs, samples):
            if tuple(img.shape[-2:]) != tuple(sample.ori_shape):
                raise ValueError(f'{sample.img_path}: decoded size {tuple(img.shape[-2:])} differs from its '
                                 f'header\'s {tuple(sample.ori_shape)}')
        batch = torch.stack([self.crop_resize_flip(img, s) for img, s in zip(imgs, samples)])
        return dict(inputs=self.normalize(batch), data_samples=samples)
