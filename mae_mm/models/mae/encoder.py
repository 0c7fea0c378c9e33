"""The MAE encoder: the project's ViT run on the visible patches and the cls token only."""
from typing import Optional, Tuple

import torch

from mae_mm.registry import MODELS
from ..vit import PlainViT
from .masking import random_masking


@MODELS.register_module()
class MAEEncoder(PlainViT):
    """:class:`PlainViT` with random masking before the blocks; ``pos_embed`` stays frozen.

    Args:
        mask_ratio (float): Fraction of patches dropped per sample, in (0, 1).
        **kwargs: :class:`PlainViT` arguments (``arch``, ``pretrain_img_size``, ``patch_size``...).
    """

    def __init__(self, mask_ratio: float = 0.75, **kwargs):
        kwargs.setdefault('pos_embed_trainable', False)
        super().__init__(**kwargs)
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'mask_ratio must lie in (0, 1), got {mask_ratio}')
        self.mask_ratio = mask_ratio

    def forward(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encodes a random visible subset.

        Args:
            imgs: (B, C, H, W) at ``pretrain_img_size``.
            noise: Optional (B, L) masking noise (smallest kept).

        Returns:
            latent: (B, 1 + K, D), K = int(L * (1 - mask_ratio)), after the final norm.
            mask: (B, L), 1 = masked.
            ids_restore: (B, L).
        """
        if tuple(imgs.shape[-2:]) != self.pretrain_img_size:
            raise ValueError(f'MAE pretraining expects {self.pretrain_img_size} inputs (pretrain_img_size), '
                             f'got {tuple(imgs.shape[-2:])}')
        x, _ = self.patch_tokens(imgs)
        x, mask, ids_restore = random_masking(x, self.mask_ratio, noise)
        x, _ = self.run_blocks(self.with_cls_token(x))  # no grid: the visible tokens are a random subset
        return self.norm(x), mask, ids_restore
