"""Pixel targets (MAE Table 1d's first two rows): each patch's pixels, raw or normalised per patch."""
from typing import Tuple

import torch

from mae_mm.registry import MODELS
from ..vit import patchify
from .target import ReconstructionTarget


class PatchPixels(ReconstructionTarget):
    """Each patch's pixel values, ordered row, column, channel (:func:`patchify`), in the data
    preprocessor's normalised space; MSE on the masked patches.

    Args:
        norm_pix (bool): Normalise each target patch by its own mean and unbiased variance,
            ``(t - mean) / sqrt(var + eps)``, as the paper's best setting does.
        eps (float): Added to the variance.
    """

    def __init__(self, norm_pix: bool, eps: float = 1e-6):
        super().__init__()
        self.norm_pix = norm_pix
        self.eps = eps

    def out_dim(self, patch_size: int, in_chans: int) -> int:
        """p * p * C."""
        return patch_size * patch_size * in_chans

    def targets(self, imgs: torch.Tensor, patch_size: int) -> torch.Tensor:
        """(B, C, H, W) -> (B, L, p*p*C)."""
        return self.patch_targets(patchify(imgs, patch_size))

    def patch_targets(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, L, P) image patches -> (B, L, P) regression targets."""
        if not self.norm_pix:
            return patches
        mean, std = self.patch_stats(patches)
        return (patches - mean) / std

    def to_pixels(self, pred: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        """Maps predictions (B, L, P) back to pixel space using the true patches' statistics.

        The inverse of :meth:`patch_targets`; for pictures only, since it reads the statistics of
        the masked patches, which the model never saw.
        """
        if not self.norm_pix:
            return pred
        mean, std = self.patch_stats(patches)
        return pred * std + mean

    def patch_stats(self, patches: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, L, P) -> each patch's mean and ``sqrt(unbiased var + eps)``, both (B, L, 1)."""
        mean = patches.mean(dim=-1, keepdim=True)
        var = patches.var(dim=-1, keepdim=True, unbiased=True)
        return mean, (var + self.eps) ** 0.5


@MODELS.register_module()
class PixelTarget(PatchPixels):
    """Table 1d's "pixel (w/o norm)": the patches' pixels as the preprocessor normalised the image
    (per channel, with the data set's mean and std)."""

    def __init__(self):
        super().__init__(norm_pix=False)


@MODELS.register_module()
class NormalizedPixelTarget(PatchPixels):
    """Table 1d's "pixel (w/ norm)", the default: each patch's pixels normalised by the patch's own
    mean and unbiased variance.

    Args:
        eps (float): Added to the variance.
    """

    def __init__(self, eps: float = 1e-6):
        super().__init__(norm_pix=True, eps=eps)
