"""The MAE pixel loss: MSE on masked patches, optionally against per-patch normalised pixels."""
import torch
import torch.nn as nn

from mae_mm.registry import MODELS


@MODELS.register_module()
class MaskedPixelLoss(nn.Module):
    """Mean over masked patches of the per-patch mean squared error.

    Args:
        norm_pix (bool): Normalise each target patch by its own mean and unbiased variance
            (``(t - mean) / sqrt(var + 1e-6)``), as the paper's best setting does.
        eps (float): Added to the variance.
    """

    def __init__(self, norm_pix: bool = True, eps: float = 1e-6):
        super().__init__()
        self.norm_pix = norm_pix
        self.eps = eps

    def target(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, L, P) image patches -> (B, L, P) regression targets."""
        if not self.norm_pix:
            return patches
        mean, std = self.patch_stats(patches)
        return (patches - mean) / std

    def to_pixels(self, pred: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        """Maps predictions (B, L, P) back to pixel space using the true patches' statistics.

        The inverse of :meth:`target`; for pictures only, since it reads the statistics of the
        masked patches, which the model never saw.
        """
        if not self.norm_pix:
            return pred
        mean, std = self.patch_stats(patches)
        return pred * std + mean

    def patch_stats(self, patches: torch.Tensor):
        """(B, L, P) -> each patch's mean and ``sqrt(unbiased var + eps)``, both (B, L, 1)."""
        mean = patches.mean(dim=-1, keepdim=True)
        var = patches.var(dim=-1, keepdim=True, unbiased=True)
        return mean, (var + self.eps) ** 0.5

    def forward(self, pred: torch.Tensor, patches: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """pred (B, L, P), image patches (B, L, P), mask (B, L) with 1 = masked -> scalar."""
        per_patch = ((pred - self.target(patches)) ** 2).mean(dim=-1)  # (B, L)
        return (per_patch * mask).sum() / mask.sum()
