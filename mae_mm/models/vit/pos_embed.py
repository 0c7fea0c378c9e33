"""Fixed 2D sin-cos position tables and the one resampling helper for grid changes."""
import numpy as np
import torch
import torch.nn.functional as F


def sincos_1d(embed_dim: int, positions: np.ndarray) -> np.ndarray:
    """(M,) positions -> (M, embed_dim): half sines, half cosines, frequencies 1/10000^(2i/d)."""
    if embed_dim % 2:
        raise ValueError(f'sin-cos embedding needs an even width, got {embed_dim}')
    omega = np.arange(embed_dim // 2, dtype=np.float64) / (embed_dim / 2.0)
    omega = 1.0 / 10000 ** omega
    angles = np.outer(positions.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def sincos_2d_table(embed_dim: int, grid_hw, cls_token: bool = True) -> torch.Tensor:
    """The MAE position table: (1 + H*W, D) with a zero cls row, or (H*W, D) without.

    As in the paper's code, the first half of the channels encodes the column (w) index and
    the second half the row (h) index; patches are in row-major order.
    """
    if embed_dim % 4:
        raise ValueError(f'2D sin-cos embedding needs a width divisible by 4, got {embed_dim}')
    gh, gw = grid_hw
    rows, cols = np.meshgrid(np.arange(gh), np.arange(gw), indexing='ij')  # (gh, gw) each
    table = np.concatenate([sincos_1d(embed_dim // 2, cols), sincos_1d(embed_dim // 2, rows)], axis=1)
    if cls_token:
        table = np.concatenate([np.zeros((1, embed_dim)), table], axis=0)
    return torch.from_numpy(table).float()


def resample_pos_embed(pos_embed: torch.Tensor, new_hw, old_hw=None, num_prefix: int = 1) -> torch.Tensor:
    """Resamples a (1, P + h*w, D) table to (1, P + H*W, D), bicubically over the patch grid.

    Each axis is scaled by its own factor (h -> H, w -> W: one ``F.interpolate`` to the size
    (H, W), corners not aligned), so a grid may change its aspect (14 x 20 -> 16 x 16).

    Args:
        pos_embed: The table; the first ``num_prefix`` rows (cls) are kept as they are.
        new_hw: The target grid (H, W).
        old_hw: The source grid (h, w), row-major; inferred as square when omitted.
        num_prefix: Rows before the grid.
    """
    prefix, grid = pos_embed[:, :num_prefix], pos_embed[:, num_prefix:]
    if old_hw is None:
        side = int(round(grid.shape[1] ** 0.5))
        if side * side != grid.shape[1]:
            raise ValueError(f'cannot infer a square grid from {grid.shape[1]} positions; pass old_hw')
        old_hw = (side, side)
    if tuple(old_hw) == tuple(new_hw):
        return pos_embed
    dim = grid.shape[-1]
    grid = grid.reshape(1, old_hw[0], old_hw[1], dim).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=tuple(new_hw), mode='bicubic', align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_hw[0] * new_hw[1], dim).to(pos_embed.dtype)
    return torch.cat([prefix, grid], dim=1)
