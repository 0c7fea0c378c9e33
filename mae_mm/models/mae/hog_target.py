"""MaskFeat's target (Wei et al., "Masked Feature Prediction for Self-Supervised Visual
Pre-Training", CVPR 2022): histograms of oriented gradients of the whole image, per patch."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from mae_mm.registry import MODELS
from .target import ReconstructionTarget

SOBEL = ((1., 0., -1.), (2., 0., -2.), (1., 0., -1.))  # cross-correlated: left minus right


def gaussian_window(size: int) -> torch.Tensor:
    """(size, size) separable Gaussian centred on the window, std ``size // 2`` (MaskFeat's),
    summing to 1."""
    n = torch.arange(size, dtype=torch.float32)
    g = torch.exp(-0.5 * ((n - n.mean()) / (size // 2)) ** 2)
    window = g[:, None] * g[None, :]
    return window / window.sum()


@MODELS.register_module()
class HOGTarget(ReconstructionTarget):
    """HOG as MaskFeat computes it, grouped per patch; MSE on the masked patches.

    Per colour channel, over the whole image: Sobel gradients with reflect padding (1 px); each
    pixel's gradient magnitude, weighted by a Gaussian window tiled over the image, votes into
    one of ``nbins`` unsigned orientation bins (``floor(atan2(g_x, g_y) / pi * nbins) mod nbins``,
    ``g_x`` the left-minus-right response, ``g_y`` the top-minus-bottom one, as MaskFeat's code;
    bin 0 holds horizontal edges); the votes are summed per ``cell_size`` x ``cell_size`` cell and
    each cell's histogram is L2-normalised per channel (the local contrast normalisation MaskFeat
    finds essential). A patch's target is its (p / cell)^2 cells' histograms, ordered channel,
    bin, cell row, cell column: ``3 * nbins * (p / cell_size)^2`` values, 108 for 16-px patches.
    mmpretrain's ``HOGGenerator`` computes the same at 224 px with 16-px patches (its hard-coded
    grid of 14 patches per side fails at other sizes; here the arithmetic follows the image and
    patch sizes).

    Input domain: the data preprocessor's output, as MaskFeat (its data preprocessor
    normalises each channel with the data set's mean and std before the HOG). The features do
    not depend on that normalisation: the gradients ignore a channel's offset and the per-cell,
    per-channel L2 normalisation removes its scale (up to the normalisation's 1e-12 floor), so
    raw 0-255 pixels give the same targets. The channel order is the preprocessor's (RGB with
    ``to_rgb=True``). Computed in float32 without gradients, also under autocast.

    Args:
        nbins (int): Orientation bins over 180 degrees (9).
        cell_size (int): Cell side in pixels (8); must divide the patch size.
        gaussian_window (int, optional): Side of the Gaussian window that weights the magnitudes,
            tiled over the image (std ``gaussian_window // 2``); must divide the image's height
            and width. ``None`` (the default): the patch size, centring one window on each patch,
            as MaskFeat's 16-px window on its 16-px patches. ``0``: no weighting.
    """

    def __init__(self, nbins: int = 9, cell_size: int = 8, gaussian_window: Optional[int] = None):
        super().__init__()
        if nbins < 1 or cell_size < 1:
            raise ValueError(f'HOGTarget: nbins ({nbins}) and cell_size ({cell_size}) must be >= 1')
        if gaussian_window is not None and gaussian_window != 0 and gaussian_window < 2:
            raise ValueError(f'HOGTarget: gaussian_window={gaussian_window}; allowed: None (the patch size), '
                             '0 (no window) or a side >= 2')
        self.nbins, self.cell_size, self.gaussian_window = nbins, cell_size, gaussian_window
        self.register_buffer('sobel', torch.tensor(SOBEL)[None, None], persistent=False)  # (1, 1, 3, 3)

    def out_dim(self, patch_size: int, in_chans: int) -> int:
        """``in_chans * nbins * (patch_size / cell_size)^2``; only RGB images (``in_chans=3``)."""
        if in_chans != 3:
            raise ValueError(f'HOGTarget computes MaskFeat\'s HOG of RGB images: in_chans={in_chans}; allowed: 3')
        if patch_size % self.cell_size:
            raise ValueError(f'HOGTarget: patch_size={patch_size} is not a multiple of cell_size={self.cell_size}')
        return in_chans * self.nbins * (patch_size // self.cell_size) ** 2

    @torch.no_grad()
    def targets(self, imgs: torch.Tensor, patch_size: int) -> torch.Tensor:
        """(B, 3, H, W) -> (B, L, 3 * nbins * k * k), k = patch_size / cell_size cells per patch side."""
        b, c, h, w = imgs.shape
        self.out_dim(patch_size, c)
        if h % patch_size or w % patch_size:
            raise ValueError(f'HOGTarget: the image size {h} x {w} is not a multiple of patch_size={patch_size}')
        window = patch_size if self.gaussian_window is None else self.gaussian_window
        if window and (h % window or w % window):
            raise ValueError(f'HOGTarget: gaussian_window={window} does not divide the image size {h} x {w}')
        with torch.autocast(imgs.device.type, enabled=False):
            cells = self.cell_histograms_of(imgs.float(), window)  # (B, C, H / cell, W / cell, nbins)
        k = patch_size // self.cell_size
        gh, gw = h // patch_size, w // patch_size
        patches = cells.view(b, c, gh, k, gw, k, self.nbins).permute(0, 2, 4, 1, 6, 3, 5)  # (B, gh, gw, C, n, k, k)
        return patches.reshape(b, gh * gw, -1)

    def cell_histograms_of(self, imgs: torch.Tensor, window: int) -> torch.Tensor:
        """(B, C, H, W) float32 -> (B, C, H / cell, W / cell, nbins), each histogram of unit L2 norm
        (or zero)."""
        b, c, h, w = imgs.shape
        padded = F.pad(imgs, (1, 1, 1, 1), mode='reflect')
        kernel = self.sobel.expand(c, 1, 3, 3)
        gx = F.conv2d(padded, kernel, groups=c)  # left minus right
        gy = F.conv2d(padded, kernel.transpose(2, 3), groups=c)  # top minus bottom
        magnitude = torch.stack([gx, gy], dim=-1).norm(dim=-1)  # (B, C, H, W)
        if window:
            magnitude = magnitude * gaussian_window(window).to(magnitude.device).repeat(h // window, w // window)
        bins = torch.floor(torch.atan2(gx, gy) / math.pi * self.nbins).long() % self.nbins  # (B, C, H, W)
        votes = magnitude.new_zeros(b, c, h, w, self.nbins).scatter_(-1, bins[..., None], magnitude[..., None])
        s = self.cell_size
        cells = votes.view(b, c, h // s, s, w // s, s, self.nbins).sum(dim=(3, 5))
        return F.normalize(cells, p=2, dim=-1)

    def cell_histograms(self, feats: torch.Tensor, patch_size: int, grid: Tuple[int, int]) -> torch.Tensor:
        """Per-patch features back on the cell grid, the inverse of the grouping in :meth:`targets`.

        Args:
            feats: (B, L, 3 * nbins * k * k), targets or predictions.
            patch_size: p.
            grid: (gh, gw) patches, L = gh * gw.

        Returns:
            (B, 3, nbins, gh * k, gw * k).
        """
        b, (gh, gw), k = feats.shape[0], grid, patch_size // self.cell_size
        cells = feats.reshape(b, gh, gw, -1, self.nbins, k, k).permute(0, 3, 4, 1, 5, 2, 6)  # (B, C, n, gh, k, gw, k)
        return cells.reshape(b, cells.shape[1], self.nbins, gh * k, gw * k)
