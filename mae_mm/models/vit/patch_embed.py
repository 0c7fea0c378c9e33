"""Patch embedding and the (un)patchify maps used by the pixel loss."""
import torch
import torch.nn as nn


class PatchEmbed(nn.Module):
    """Splits an image into non-overlapping patches and projects each to ``embed_dim``.

    Args:
        patch_size (int): Side of a square patch, in pixels.
        in_chans (int): Input channels.
        embed_dim (int): Output width.
    """

    def __init__(self, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 768):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, H/p * W/p, D), patches in row-major order."""
        p = self.patch_size
        if x.shape[-2] % p or x.shape[-1] % p:
            raise ValueError(f'image size {tuple(x.shape[-2:])} is not divisible by the patch size {p}')
        return self.proj(x).flatten(2).transpose(1, 2)


def patchify(imgs: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, L, p*p*C); each patch's values ordered row, column, channel."""
    b, c, h, w = imgs.shape
    p = patch_size
    x = imgs.reshape(b, c, h // p, p, w // p, p)
    x = torch.einsum('bchpwq->bhwpqc', x)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def unpatchify(patches: torch.Tensor, patch_size: int, grid_hw: tuple, channels: int = 3) -> torch.Tensor:
    """(B, L, p*p*C) -> (B, C, H, W); the inverse of :func:`patchify`."""
    b = patches.shape[0]
    gh, gw = grid_hw
    p = patch_size
    x = patches.reshape(b, gh, gw, p, p, channels)
    x = torch.einsum('bhwpqc->bchpwq', x)
    return x.reshape(b, channels, gh * p, gw * p)
