"""The masks a reconstruction panel shows, read back from its PNG, against the mask generator's own."""
import mmcv
import torch

from mae_mm.models.mae import build_mask_generator, random_masking

TITLE_PX, PAD_PX, MIN_PANEL_PX = 18, 4, 160  # mae_mm/visualization/reconstruction_panel.py's layout


def grey_patches(png: str, num_images: int, grid: int, patch_px: int) -> torch.Tensor:
    """(num_images, grid * grid) bool: the patches of the panel's "masked" column that are all grey
    (127), in row-major patch order, of a panel of square images of ``grid`` x ``grid`` patches."""
    panel = mmcv.imread(png, channel_order='rgb')
    image_px = grid * patch_px
    zoom = max(1, -(-MIN_PANEL_PX // image_px))
    side, cell = patch_px * zoom, image_px * zoom + PAD_PX
    assert panel.shape == (num_images * cell + TITLE_PX, 4 * cell, 3), panel.shape
    rows = []
    for i in range(num_images):
        masked = panel[TITLE_PX + i * cell:TITLE_PX + i * cell + grid * side, cell:cell + grid * side]
        patches = masked.reshape(grid, side, grid, side, 3).transpose(0, 2, 1, 3, 4).reshape(grid * grid, -1)
        rows.append(torch.from_numpy((patches == 127).all(1)))
    return torch.stack(rows)


def generator_mask(mask_generator: dict, num_images: int, grid: int, ratio: float, seed: int) -> torch.Tensor:
    """(num_images, grid * grid) bool: the mask ``mask_generator`` (a config) draws with a CPU generator
    seeded with ``seed``, as the panels draw it, built here independently of any model."""
    gen = build_mask_generator(mask_generator, (grid, grid), ratio)
    noise = gen(num_images, 'cpu', torch.Generator().manual_seed(seed))
    return random_masking(torch.zeros(num_images, grid * grid, 1), ratio, noise)[1].bool()
