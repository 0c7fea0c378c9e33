"""The MAE pixel loss under its first name: MSE on masked patches, optionally against per-patch
normalised pixels. The same computation as :class:`PixelTarget` / :class:`NormalizedPixelTarget`."""
import torch

from mae_mm.registry import MODELS
from .pixel_target import PatchPixels


@MODELS.register_module()
class MaskedPixelLoss(PatchPixels):
    """Mean over masked patches of the per-patch mean squared error.

    Kept for configs (and checkpoints' stored configs) that name it; ``norm_pix=True`` is
    :class:`NormalizedPixelTarget`, ``norm_pix=False`` is :class:`PixelTarget`.

    Args:
        norm_pix (bool): Normalise each target patch by its own mean and unbiased variance
            (``(t - mean) / sqrt(var + 1e-6)``), as the paper's best setting does.
        eps (float): Added to the variance.
    """

    def __init__(self, norm_pix: bool = True, eps: float = 1e-6):
        super().__init__(norm_pix=norm_pix, eps=eps)

    def target(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, L, P) image patches -> (B, L, P) regression targets."""
        return self.patch_targets(patches)

    def forward(self, pred: torch.Tensor, patches: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """pred (B, L, P), image patches (B, L, P), mask (B, L) with 1 = masked -> scalar."""
        return self.loss(pred, self.patch_targets(patches), mask)
