"""BEiT's relative position bias: one learned attention logit per head and 2D patch offset."""
import functools
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..vit import AttentionBias, relative_offsets


@functools.lru_cache(maxsize=16)
def relative_offset_index(grid_hw: Tuple[int, int], device: torch.device) -> torch.Tensor:
    """(h*w, h*w) index of the offset between patches i and j in a (2h-1, 2w-1) table.

    Patches are in row-major order; entry (i, j) is ``(yi - yj + h - 1) * (2w - 1) + xi - xj + w - 1``,
    from the per-axis offsets of :func:`~mae_mm.models.vit.relative_offsets`.
    Cached per grid and device: every block of every forward indexes with the same one (read only).
    """
    h, w = grid_hw
    dy, dx = relative_offsets(h, device), relative_offsets(w, device)  # (h, h), (w, w)
    return (dy[:, None, :, None] * (2 * w - 1) + dx[None, :, None, :]).reshape(h * w, h * w)


def fit_offset_table(table: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """(2Gh-1, 2Gw-1, heads) -> (2h-1, 2w-1, heads) for a grid (h, w).

    Offsets the table covers keep their learned bias (a centre crop); along an axis where the
    new grid is larger, the table is first resampled bicubically, as the position table is.
    """
    if tuple(table.shape[:2]) == tuple(size):
        return table
    big = (max(size[0], table.shape[0]), max(size[1], table.shape[1]))
    if big != tuple(table.shape[:2]):
        grid = table.permute(2, 0, 1)[None].float()
        grid = F.interpolate(grid, size=big, mode='bicubic', align_corners=False)
        table = grid[0].permute(1, 2, 0).to(table.dtype)
    top, left = (big[0] - size[0]) // 2, (big[1] - size[1]) // 2
    return table[top:top + size[0], left:left + size[1]]


class RelativePositionBias(AttentionBias):
    """The relative position bias of one attention layer, as in BEiT (with the cls token).

    Args:
        grid_size (tuple[int, int]): The patch grid (Gh, Gw) the table is sized for; it covers
            offsets in [-(Gh-1), Gh-1] x [-(Gw-1), Gw-1].
        num_heads (int): Attention heads.

    Parameter ``relative_position_bias_table``: ((2Gh-1)(2Gw-1) + 3, heads), BEiT's layout: the
    offsets in row-major order, then cls->patch, patch->cls and cls->cls. It starts at zero
    (MAE's transfer recipe), so a model with the bias computes what the model without it does
    until training moves it. A checkpoint's table for another (square) grid is resampled to it
    at load (``adapted_at_load``); an input grid other than ``grid_size`` uses a fitted copy.
    """

    adapted_at_load = ('relative_position_bias_table',)

    def __init__(self, grid_size: Tuple[int, int], num_heads: int):
        super().__init__()
        self.grid_size = tuple(grid_size)
        self.num_heads = num_heads
        gh, gw = self.grid_size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * gh - 1) * (2 * gw - 1) + 3, num_heads))

    def forward(self, q: torch.Tensor, grid_hw: Tuple[int, int]) -> torch.Tensor:
        """q (B, heads, 1 + h*w, d_head) of a cls token and a (h, w) grid -> (1, heads, 1 + h*w, 1 + h*w)
        in q's dtype, the attention's under autocast."""
        return self.table_bias(grid_hw).to(q.dtype)

    def table_bias(self, grid_hw: Tuple[int, int]) -> torch.Tensor:
        """The bias for a (h, w) patch grid after a cls token: (1, heads, 1 + h*w, 1 + h*w)."""
        h, w = grid_hw
        gh, gw = self.grid_size
        table = self.relative_position_bias_table
        offsets = fit_offset_table(table[:-3].reshape(2 * gh - 1, 2 * gw - 1, -1), (2 * h - 1, 2 * w - 1))
        index = relative_offset_index((h, w), table.device)
        patches = offsets.reshape(-1, self.num_heads)[index]  # (hw, hw, heads)
        n = h * w
        cls_to_patch, patch_to_cls, cls_to_cls = table[-3], table[-2], table[-1]
        top = torch.cat([cls_to_cls.view(1, 1, -1), cls_to_patch.expand(1, n, -1)], dim=1)
        rest = torch.cat([patch_to_cls.expand(n, 1, -1), patches], dim=1)
        return torch.cat([top, rest], dim=0).permute(2, 0, 1)[None]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Fits a checkpoint's table made for another (square) grid to ours."""
        key = prefix + 'relative_position_bias_table'
        src = state_dict.get(key)
        if src is not None and src.shape != self.relative_position_bias_table.shape:
            side = int(round(((src.shape[0] - 3) ** 0.5 + 1) / 2))
            if (2 * side - 1) ** 2 + 3 != src.shape[0] or src.shape[1] != self.num_heads:
                raise ValueError(f'{key}: checkpoint shape {tuple(src.shape)} is not a square-grid table '
                                 f'for {self.num_heads} heads')
            gh, gw = self.grid_size
            offsets = fit_offset_table(src[:-3].reshape(2 * side - 1, 2 * side - 1, -1), (2 * gh - 1, 2 * gw - 1))
            state_dict[key] = torch.cat([offsets.reshape(-1, self.num_heads), src[-3:]], dim=0)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
