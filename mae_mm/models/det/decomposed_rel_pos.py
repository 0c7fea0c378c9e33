"""ViTDet's relative position bias: decomposed along the two axes and dependent on the query.

Its two tables are ``blocks.N.attn.rel_pos_h`` and ``blocks.N.attn.rel_pos_w`` in a checkpoint
(detectron2's names), zero at initialisation, so a pretraining checkpoint loads as it is and a
block computes what the pretrained one did until the tables learn.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..vit import Attention, AttentionBias, relative_offsets


def rel_pos_lookup(table: torch.Tensor, size: int) -> torch.Tensor:
    """(2S - 1, C) table of offsets -> (size, size, C), entry [i, j] for the offset i - j.

    A table made for another length S is first resampled linearly to 2 * size - 1 rows
    (ViTDet's rule for another input size, applied at every forward).
    """
    length = 2 * size - 1
    if table.shape[0] != length:
        table = F.interpolate(table.t()[None], size=length, mode='linear', align_corners=False)[0].t()
    return table[relative_offsets(size, table.device)]


def decomposed_rel_pos_bias(q: torch.Tensor, hw: Tuple[int, int], rel_pos_h: torch.Tensor,
                            rel_pos_w: torch.Tensor) -> torch.Tensor:
    """The attention-logit bias of query i = (ih, iw) for key j = (jh, jw):
    ``q_i . Rh[ih - jh] + q_i . Rw[iw - jw]`` (MViTv2's decomposed form, unscaled q as in ViTDet).

    Args:
        q: (B, heads, h*w, c) queries in row-major token order.
        hw: The token grid (h, w).
        rel_pos_h, rel_pos_w: (2h' - 1, c) and (2w' - 1, c) tables (resampled when h' != h).

    Returns:
        (B, heads, h*w, h*w).
    """
    (h, w), (b, n, _, c) = hw, q.shape
    r_q = q.reshape(b, n, h, w, c)
    bias_h = torch.einsum('bnhwc,hkc->bnhwk', r_q, rel_pos_lookup(rel_pos_h, h).to(q.dtype))  # (B, n, h, w, h)
    bias_w = torch.einsum('bnhwc,wkc->bnhwk', r_q, rel_pos_lookup(rel_pos_w, w).to(q.dtype))  # (B, n, h, w, w)
    return (bias_h[..., :, None] + bias_w[..., None, :]).reshape(b, n, h * w, h * w)


class DecomposedRelPosBias(AttentionBias):
    """ViTDet's bias provider for one block (:func:`decomposed_rel_pos_bias`).

    Args:
        attn (Attention): The block's attention. The tables, (2h - 1) and (2w - 1) rows of
            ``dim // num_heads``, zero-initialised, are registered on it as ``rel_pos_h`` and
            ``rel_pos_w``, the names of every ViTDet checkpoint; this provider holds no
            parameter of its own and reads them from there.
        grid_size (tuple): The grid the tables are sized for: the window of a window block,
            the training input's token grid for a global block. Another grid resamples them
            linearly at each forward; nothing is adapted at load.
    """

    def __init__(self, attn: Attention, grid_size: Tuple[int, int]):
        super().__init__()
        head_dim = attn.qkv.in_features // attn.num_heads
        attn.rel_pos_h = nn.Parameter(torch.zeros(2 * grid_size[0] - 1, head_dim))
        attn.rel_pos_w = nn.Parameter(torch.zeros(2 * grid_size[1] - 1, head_dim))
        object.__setattr__(self, 'attn', attn)  # a reference, not a sub-module: the block owns the attention

    def forward(self, q: torch.Tensor, grid_hw: Tuple[int, int]) -> torch.Tensor:
        """q (B, heads, h*w, d_head) -> (B, heads, h*w, h*w) in q's dtype."""
        return decomposed_rel_pos_bias(q, grid_hw, self.attn.rel_pos_h, self.attn.rel_pos_w)
