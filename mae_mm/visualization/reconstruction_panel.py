"""The reconstruction panel of a masked autoencoder: original | masked | reconstruction |
reconstruction + visible, one row per image. Drawn by tools/visualize_reconstruction.py and by
:class:`~mae_mm.engine.ReconstructionVisHook` during training. A model with a HOG target draws
its HOG instead of the two reconstructions (:data:`HOG_TITLES`)."""
import cv2
import numpy as np
import torch

from mae_mm.models.mae import HOGTarget
from mae_mm.models.vit import patchify, unpatchify
from .hog_glyphs import hog_glyphs

TITLES = ('original', 'masked', 'reconstruction', 'reconstruction + visible')
# HOG target: the image's HOG, and the prediction on the masked patches with the image's HOG on the
# visible ones; glyphs of the histograms averaged over the colour channels (mae_mm/visualization/hog_glyphs.py)
HOG_TITLES = ('original', 'masked', 'HOG of the image', 'predicted HOG + visible')
MIN_PANEL_PX = 160  # small inputs are enlarged (nearest neighbour) to at least this width


def masking_noise(encoder, num_images: int, seed: int) -> torch.Tensor:
    """(num_images, L) masking noise of ``encoder``'s mask generator (an :class:`~mae_mm.models.MAEEncoder`),
    on the CPU, from a generator of its own seeded with ``seed`` (the global torch generator is not
    touched): the panels show the masks the model trains with."""
    return encoder.masking_noise(num_images, 'cpu', torch.Generator().manual_seed(seed))


@torch.no_grad()
def reconstruction_images(model, imgs: torch.Tensor, noise: torch.Tensor):
    """The four panels of a batch, in the data preprocessor's normalised space.

    Args:
        model: A :class:`~mae_mm.models.MaskedAutoencoder` (in eval mode).
        imgs: (B, 3, H, W) normalised images.
        noise: (B, L) masking noise; the patches with the smallest noise stay visible.

    Returns:
        original, masked (masked patches zeroed), reconstruction, reconstruction with the
        visible patches pasted back: each (B, 3, H, W); and the mask (B, L), 1 = masked.
        With ``NormalizedPixelTarget`` the predictions are mapped back to pixels with each true
        patch's mean and variance.
    """
    p, grid = model.patch_size, model.encoder.grid_size
    pred, mask = model.reconstruct(imgs, noise.to(imgs.device))
    patches = patchify(imgs, p)  # (B, L, p*p*3)
    pixels = model.target.to_pixels(pred, patches)
    if pixels is None:
        raise ValueError(f'{type(model.target).__name__} predicts no pixels to draw')
    keep = (1 - mask).unsqueeze(-1)
    masked = unpatchify(patches * keep, p, grid)
    recon = unpatchify(pixels, p, grid)
    pasted = unpatchify(patches * keep + pixels * (1 - keep), p, grid)
    return imgs, masked, recon, pasted, mask


@torch.no_grad()
def hog_images(model, imgs: torch.Tensor, noise: torch.Tensor, cell_px: int):
    """The panels of a model with a :class:`HOGTarget`: the image's HOG, and the predicted HOG
    of the masked patches pasted among the image's HOG of the visible ones.

    Args:
        model: A :class:`~mae_mm.models.MaskedAutoencoder` with a HOG target (in eval mode).
        imgs: (B, 3, H, W) normalised images.
        noise: (B, L) masking noise.
        cell_px: Side of a HOG cell in the pictures.

    Returns:
        original and masked (as :func:`reconstruction_images`'), the two HOG pictures, each
        (B, H / cell * cell_px, W / cell * cell_px) in [0, 1], and the mask (B, L). The
        histograms are averaged over the colour channels and each image's are scaled by the
        largest value of its own HOG (both pictures alike), negative predictions drawn as 0.
    """
    p, target = model.patch_size, model.target
    grid = (imgs.shape[-2] // p, imgs.shape[-1] // p)
    pred, mask = model.reconstruct(imgs, noise.to(imgs.device))
    true = target.targets(imgs, p)  # (B, L, T)
    keep = (1 - mask).unsqueeze(-1)
    masked = unpatchify(patchify(imgs, p) * keep, p, grid)
    cells = [target.cell_histograms(feats, p, grid).mean(1) for feats in (true, true * keep + pred * (1 - keep))]
    scale = cells[0].flatten(1).amax(1).clamp(min=1e-12)[:, None, None, None]
    return (imgs, masked, *(hog_glyphs(c / scale, cell_px) for c in cells), mask)


def to_uint8(imgs: torch.Tensor, preprocessor) -> np.ndarray:
    """Normalised (B, 3, H, W) -> (B, H, W, 3) uint8 RGB, with the preprocessor's mean and std."""
    mean = preprocessor.mean.to(imgs.device).view(1, -1, 1, 1)
    std = preprocessor.std.to(imgs.device).view(1, -1, 1, 1)
    return (imgs * std + mean).clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()


def enlarged(rgb: np.ndarray, zoom: int) -> np.ndarray:
    """(B, H, W, 3) -> (B, zoom * H, zoom * W, 3), nearest neighbour."""
    return rgb.repeat(zoom, axis=1).repeat(zoom, axis=2)


def reconstruction_panel(model, imgs: torch.Tensor, noise: torch.Tensor) -> np.ndarray:
    """Draws the panel of a batch: one row per image, four titled columns.

    Args:
        model: A :class:`~mae_mm.models.MaskedAutoencoder` in eval mode.
        imgs: (B, 3, H, W) normalised as the model's data preprocessor hands them over.
        noise: (B, L) masking noise (:func:`masking_noise`).

    Returns:
        (B * (h + 4) + 18, 4 * (w + 4), 3) uint8 RGB, h, w the enlarged panel size; the masked
        patches of the "masked" column are grey. With a :class:`HOGTarget` the two right columns
        are :func:`hog_images`' glyph pictures, titled :data:`HOG_TITLES`.
    """
    zoom = max(1, -(-MIN_PANEL_PX // imgs.shape[-1]))  # nearest neighbour keeps the patch grid visible
    if isinstance(model.target, HOGTarget):
        *panels, mask = hog_images(model, imgs, noise, cell_px=model.target.cell_size * zoom)
        drawn = [(255 * hog).round().byte()[..., None].expand(-1, -1, -1, 3).cpu().numpy() for hog in panels[2:]]
        titles = HOG_TITLES
    else:
        *panels, mask = reconstruction_images(model, imgs, noise)
        drawn = [enlarged(to_uint8(panel, model.data_preprocessor), zoom) for panel in panels[2:]]
        titles = TITLES
    columns = [to_uint8(panel, model.data_preprocessor) for panel in panels[:2]]
    p = model.patch_size
    masked_px = unpatchify(mask[..., None].expand(-1, -1, p * p * 3).float(), p, model.encoder.grid_size)
    columns[1][masked_px.permute(0, 2, 3, 1).cpu().numpy() > 0.5] = 127
    columns = [enlarged(c, zoom) for c in columns] + drawn
    num, h, w = columns[0].shape[:3]
    pad, title_h = 4, 18
    canvas = np.full((num * (h + pad) + title_h, len(columns) * (w + pad), 3), 255, np.uint8)
    for j, column in enumerate(columns):
        x = j * (w + pad)
        for i in range(num):
            y = title_h + i * (h + pad)
            canvas[y:y + h, x:x + w] = column[i]
        cv2.putText(canvas, titles[j], (x + 2, title_h - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas
