"""What the decoder predicts for each patch (MAE Table 1d), and the loss that compares the two."""
from abc import ABC, abstractmethod
from typing import List, Optional

import torch
import torch.nn as nn

from mae_mm.registry import MODELS, build_model

DEFAULT_TARGET = 'NormalizedPixelTarget'  # the paper's best setting, and what MaskedPixelLoss() computes


class ReconstructionTarget(nn.Module, ABC):
    """The interface of a reconstruction target: per-patch targets made from the image batch, the
    width of the decoder's prediction for one patch, and the masked loss.

    The pretraining model asks :meth:`out_dim` once, when it is built, and gives the decoder a
    prediction head that wide; every step it compares ``pred`` with :meth:`targets` of the batch
    through :meth:`loss`, and evaluation through :meth:`per_sample_loss`. Both reduce
    :meth:`per_patch_loss` over the masked patches only.

    Regression targets (pixels, HOG) return float targets (B, L, T) with ``T = out_dim`` and use
    this class's per-patch MSE. A token target (BEiT's dVAE codes, clustered PCA features)
    returns int64 ids (B, L) of a vocabulary of V tokens; its ``out_dim`` is V, so the decoder
    predicts (B, L, V) logits, and it overrides :meth:`per_patch_loss` with cross-entropy::

        class TokenTarget(ReconstructionTarget):
            def __init__(self, tokenizer: dict, vocab_size: int):
                super().__init__()
                self.tokenizer, self.vocab_size = build_model(tokenizer), vocab_size  # frozen

            def out_dim(self, patch_size, in_chans):
                return self.vocab_size

            @torch.no_grad()
            def targets(self, imgs, patch_size):
                return self.tokenizer(imgs)  # (B, L) int64, one token per patch

            def per_patch_loss(self, pred, targets):
                ce = F.cross_entropy(pred.flatten(0, 1).float(), targets.flatten(), reduction='none')
                return ce.view(targets.shape)  # (B, L)

    docs/targets.md describes each target and its input domain.
    """

    @abstractmethod
    def out_dim(self, patch_size: int, in_chans: int) -> int:
        """T, the decoder's output width per patch for ``patch_size`` patches of ``in_chans``
        channel images. Raises ``ValueError``, naming the value, for a geometry the target cannot use."""

    @abstractmethod
    def targets(self, imgs: torch.Tensor, patch_size: int) -> torch.Tensor:
        """(B, C, H, W) images, normalised as the data preprocessor hands them over -> per-patch
        targets: (B, L, T) floats (regression) or (B, L) int64 ids (tokens); L = (H / p) * (W / p),
        patches in row-major order as :func:`~mae_mm.models.vit.patchify` numbers them."""

    def per_patch_loss(self, pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(B, L, T) predictions, (B, L, T) targets -> (B, L): each patch's mean squared error."""
        return ((pred - targets) ** 2).mean(dim=-1)

    def loss(self, pred: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The training loss: the mean of :meth:`per_patch_loss` over the batch's masked patches.

        Args:
            pred: (B, L, T), the decoder's output.
            targets: :meth:`targets` of the batch.
            mask: (B, L), 1 = masked.

        Returns:
            A scalar.
        """
        return (self.per_patch_loss(pred, targets) * mask).sum() / mask.sum()

    def per_sample_loss(self, pred: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """As :meth:`loss`, per sample over its own masked patches: (B,)."""
        return (self.per_patch_loss(pred, targets) * mask).sum(1) / mask.sum(1)

    def to_pixels(self, pred: torch.Tensor, patches: torch.Tensor) -> Optional[torch.Tensor]:
        """Predictions (B, L, T) as pixel patches (B, L, p*p*C) for pictures, given the true
        patches; ``None`` for a target that predicts no pixels."""
        return None


def registered_targets() -> List[str]:
    """The names of the registered reconstruction targets (the values ``model.target.type`` takes)."""
    MODELS.import_from_location()
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, ReconstructionTarget))


def build_target(cfg: dict, key: str = 'model.target') -> ReconstructionTarget:
    """Builds a reconstruction target from ``cfg``; an unknown or non-target ``type`` is refused,
    naming ``key`` and the registered targets."""
    kind = cfg.get('type')
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if not (isinstance(cls, type) and issubclass(cls, ReconstructionTarget)):
        raise ValueError(f'{key}.type={kind!r} is not a reconstruction target; '
                         f'registered targets: {", ".join(registered_targets())}')
    return build_model(cfg)
