"""The interface of an attention-logit bias, and the offset index its relative-position forms share.

A :class:`~mae_mm.models.vit.Block` owns at most one relative position bias (``block.rel_pos_bias``,
built by the block's ``rel_pos_bias`` factory; the backbones switch it with their ``rel_pos_bias``
flag) and hands its output, the logit bias, to :meth:`Attention.attend
<mae_mm.models.vit.Attention.attend>`. Two exist: BEiT's per-head table (``mae_mm.models.seg``,
segmentation) and ViTDet's decomposed, query-dependent form (``mae_mm.models.det``, detection).
"""
from typing import Tuple

import torch
import torch.nn as nn


class AttentionBias(nn.Module):
    """An additive bias on one block's attention logits, computed per call for its token grid.

    Subclasses implement :meth:`forward`, and list in ``adapted_at_load`` the state-dict names
    (relative to themselves) that their ``_load_from_state_dict`` resamples, so a checkpoint's
    tensor there may have another shape (:func:`~mae_mm.models.vit.adapted_state_keys`).
    """

    adapted_at_load: Tuple[str, ...] = ()

    def forward(self, q: torch.Tensor, grid_hw: Tuple[int, int]) -> torch.Tensor:
        """q (B, heads, N, d_head) of the tokens of a (h, w) grid -> (B or 1, heads, N, N) in q's dtype."""
        raise NotImplementedError


def relative_offsets(size: int, device=None) -> torch.Tensor:
    """(size, size) index of the offset between positions i and j along one axis, in a table of
    the ``2 * size - 1`` offsets -(size - 1) .. size - 1: entry [i, j] is ``i - j + size - 1``."""
    pos = torch.arange(size, device=device)
    return pos[:, None] - pos[None, :] + size - 1
