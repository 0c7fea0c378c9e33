"""Non-overlapping square windows over a token grid (ViTDet's window attention)."""
from typing import Tuple

import torch
import torch.nn.functional as F


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
