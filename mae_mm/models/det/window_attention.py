"""ViTDet's block: window or global attention with a decomposed relative position bias.

The block keeps the parameter names of the shared ViT's :class:`Block` (``norm1``,
``attn.qkv``, ``attn.proj``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``) and adds only
``attn.rel_pos_h`` and ``attn.rel_pos_w``, zero at initialisation, so a pretraining
checkpoint loads as it is and the block computes what the pretrained one did until the
tables learn.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..vit import Attention, Block


def window_partition(x: torch.Tensor, window: int) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """(B, H, W, C) -> (B * nH * nW, window, window, C) and the padded size (Hp, Wp).

    The bottom and right edges are padded with zeros up to a multiple of ``window``; windows
    are ordered image by image, then row-major.
    """
    b, h, w, c = x.shape
    pad_h, pad_w = -h % window, -w % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window, window, wp // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c), (hp, wp)


def window_unpartition(windows: torch.Tensor, window: int, padded_hw: Tuple[int, int],
                       hw: Tuple[int, int]) -> torch.Tensor:
    """(B * nH * nW, window, window, C) -> (B, H, W, C): the inverse of :func:`window_partition`."""
    (hp, wp), (h, w) = padded_hw, hw
    b = windows.shape[0] // (hp // window * wp // window)
    x = windows.view(b, hp // window, wp // window, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    return x[:, :h, :w].contiguous()


def rel_pos_lookup(table: torch.Tensor, size: int) -> torch.Tensor:
    """(2S - 1, C) table of offsets -> (size, size, C), entry [i, j] for the offset i - j.

    A table made for another length S is first resampled linearly to 2 * size - 1 rows.
    """
    length = 2 * size - 1
    if table.shape[0] != length:
        table = F.interpolate(table.t()[None], size=length, mode='linear', align_corners=False)[0].t()
    pos = torch.arange(size, device=table.device)
    return table[pos[:, None] - pos[None, :] + size - 1]


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


class RelPosAttention(Attention):
    """:class:`Attention` plus a decomposed relative position bias on a (h, w) token grid.

    Args:
        dim (int): Token width.
        num_heads (int): Heads.
        qkv_bias (bool): Bias on q/k/v.
        grid_size (tuple): The grid the tables are sized for: (2h - 1) and (2w - 1) rows of
            ``dim // num_heads``, zero-initialised; ``None`` turns the bias off.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, grid_size=None):
        super().__init__(dim, num_heads, qkv_bias)
        self.use_rel_pos = grid_size is not None
        if self.use_rel_pos:
            head_dim = dim // num_heads
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * grid_size[0] - 1, head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * grid_size[1] - 1, head_dim))

    def forward(self, x: torch.Tensor, hw: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """(B, h*w, D) tokens of an (h, w) grid -> (B, h*w, D)."""
        if not self.use_rel_pos:
            return super().forward(x)
        q, k, v = self.project_qkv(x)  # (B, heads, N, d_head) each
        bias = decomposed_rel_pos_bias(q, hw, self.rel_pos_h, self.rel_pos_w)
        return self.project_out(self.attend(q, k, v, bias))


class WindowBlock(Block):
    """The shared ViT :class:`Block` with ViTDet's attention: in non-overlapping windows of
    ``window_size`` x ``window_size`` tokens (the grid zero-padded to a multiple), or over the
    whole grid when ``window_size`` is 0.

    Args:
        dim, num_heads, mlp_ratio, qkv_bias, drop_path: As :class:`Block`.
        window_size (int): Window side in tokens; 0 for global attention.
        grid_size (tuple): The token grid of the training input, which sizes a global
            block's relative position tables (a window block's are sized by the window).
        use_rel_pos (bool): Whether attention adds the decomposed relative position bias.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path: float = 0.0, window_size: int = 0, grid_size=(14, 14), use_rel_pos: bool = True):
        super().__init__(dim, num_heads, mlp_ratio, qkv_bias, drop_path)
        self.window_size = window_size
        table_grid = (window_size, window_size) if window_size else tuple(grid_size)
        self.attn = RelPosAttention(dim, num_heads, qkv_bias, table_grid if use_rel_pos else None)

    def forward(self, x: torch.Tensor, hw: Tuple[int, int]) -> torch.Tensor:
        """(B, h*w, D) tokens of an (h, w) grid -> (B, h*w, D)."""
        shortcut, x = x, self.norm1(x)
        if self.window_size:
            ws, (b, _, d) = self.window_size, x.shape
            windows, padded_hw = window_partition(x.view(b, hw[0], hw[1], d), ws)
            windows = self.attn(windows.view(-1, ws * ws, d), (ws, ws))
            x = window_unpartition(windows.view(-1, ws, ws, d), ws, padded_hw, hw).view(b, -1, d)
        else:
            x = self.attn(x, hw)
        x = shortcut + self.drop_path(x)
        return x + self.drop_path(self.mlp(self.norm2(x)))
