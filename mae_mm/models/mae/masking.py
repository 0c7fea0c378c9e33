"""Per-sample random masking (MAE, Sec. 3)."""
from typing import Optional, Tuple

import torch


def num_visible(length: int, mask_ratio: float) -> int:
    """K, how many of ``length`` tokens each sample keeps visible: ``int(length * (1 - mask_ratio))``.
    Every mask generator masks exactly the other ``length - K``."""
    return int(length * (1 - mask_ratio))


def random_masking(x: torch.Tensor, mask_ratio: float, noise: Optional[torch.Tensor] = None
                   ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keeps a random ``int(L * (1 - mask_ratio))`` tokens of each sample.

    Args:
        x: Tokens (B, L, D).
        mask_ratio: Fraction to drop, in (0, 1).
        noise: Optional (B, L); the tokens with the smallest noise are kept. Uniform if omitted.

    Returns:
        visible: (B, K, D), the kept tokens in ascending-noise order.
        mask: (B, L), 1 where a token was dropped, 0 where kept, in the original order.
        ids_restore: (B, L), indices that undo the shuffle: ``shuffled.gather(1, ids_restore)``.
    """
    b, length, dim = x.shape
    keep = num_visible(length, mask_ratio)
    if noise is None:
        noise = torch.rand(b, length, device=x.device)
    elif noise.shape != (b, length):
        raise ValueError(f'noise must be (B, L) = {(b, length)}, got {tuple(noise.shape)}')
    ids_shuffle = torch.argsort(noise, dim=1)  # (B, L): kept tokens first
    # the inverse permutation by one scatter (a second argsort would sort again)
    positions = torch.arange(length, device=x.device).expand(b, length)
    ids_restore = torch.empty_like(ids_shuffle).scatter_(1, ids_shuffle, positions)
    ids_keep = ids_shuffle[:, :keep]
    visible = x.gather(1, ids_keep.unsqueeze(-1).expand(-1, -1, dim))  # the one gather
    mask = (ids_restore >= keep).to(x.dtype)  # a token is masked iff its rank is past `keep`
    return visible, mask, ids_restore
