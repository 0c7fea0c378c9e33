"""HOG drawn as glyphs: in each cell, one line per orientation bin along that bin's edge direction,
as bright as the bin's value (the classic HOG picture, as skimage's and mmpretrain's draw it)."""
import cv2
import numpy as np
import torch


def glyph_stamps(nbins: int, size: int) -> torch.Tensor:
    """(nbins, size, size) in {0, 1}: for bin k a line through the cell's centre along the edges
    whose gradients fall in bin k, i.e. at ``(k + 0.5) * 180 / nbins`` degrees anticlockwise from
    horizontal (:class:`~mae_mm.models.mae.HOGTarget`'s bin 0 holds horizontal edges)."""
    stamps = np.zeros((nbins, size, size), np.uint8)
    centre, reach = (size - 1) / 2, (size - 1) / 2
    for k in range(nbins):
        angle = (k + 0.5) * np.pi / nbins
        dx, dy = reach * np.cos(angle), -reach * np.sin(angle)  # image rows grow downwards
        ends = [(int(round(centre + s * dx)), int(round(centre + s * dy))) for s in (-1, 1)]
        cv2.line(stamps[k], ends[0], ends[1], 1, 1, cv2.LINE_8)
    return torch.from_numpy(stamps).float()


def hog_glyphs(cells: torch.Tensor, cell_px: int) -> torch.Tensor:
    """Histograms on the cell grid -> their glyph picture.

    Args:
        cells: (B, nbins, Hc, Wc) bin values, drawn as brightness (clipped to [0, 1]).
        cell_px: Side of a cell in the picture.

    Returns:
        (B, Hc * cell_px, Wc * cell_px) in [0, 1].
    """
    b, nbins, hc, wc = cells.shape
    stamps = glyph_stamps(nbins, cell_px).to(cells.device)
    picture = torch.einsum('bkhw,kij->bhiwj', cells.clamp(min=0).float(), stamps)
    return picture.reshape(b, hc * cell_px, wc * cell_px).clamp(max=1)
