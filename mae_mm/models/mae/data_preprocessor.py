"""The pretraining data preprocessor: images only, non-blocking copy, normalisation on the device."""
from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mae_mm.registry import MODELS


@MODELS.register_module()
class MAEDataPreprocessor(BaseDataPreprocessor):
    """uint8 (B, 3, H, W) batches -> normalised float (B, 3, H, W) on the model's device.

    Pretraining needs no labels, so nothing per sample is stacked or copied: the batch's one
    uint8 tensor goes to the device with ``non_blocking`` (asynchronous from pinned memory,
    as the pretraining loader pins it), then ``(x - mean) / std`` runs there, in the same
    order of operations as mmpretrain's ``ClsDataPreprocessor``.

    Args:
        mean (sequence of float): Per-channel mean, in the output (RGB) channel order.
        std (sequence of float): Per-channel standard deviation.
        to_rgb (bool): Reverse the channels first (the CPU loaders hand over BGR).
        non_blocking (bool): Asynchronous host-to-device copy.
    """

    def __init__(self, mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375), to_rgb: bool = True,
                 non_blocking: bool = True):
        super().__init__(non_blocking=non_blocking)
        self.to_rgb = to_rgb
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), False)

    def normalize(self, imgs: torch.Tensor) -> torch.Tensor:
        """uint8 or float (B, 3, H, W) on the device -> float32 (B, 3, H, W)."""
        if self.to_rgb:
            imgs = imgs.flip(1)
        return (imgs.float() - self.mean) / self.std

    def forward(self, data: dict, training: bool = False) -> dict:
        """``{'inputs': (B, 3, H, W) or list of (3, H, W), 'data_samples': ...}`` -> same keys.

        In training the data samples are not touched (``None`` comes back: pretraining reads
        no labels, and a compiled ``train_step`` then guards on none of them); otherwise they
        pass through (evaluation writes its results into them).
        """
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        imgs = self.cast_data(inputs)
        return dict(inputs=self.normalize(imgs), data_samples=None if training else data.get('data_samples'))

