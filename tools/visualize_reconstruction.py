"""Draws MAE reconstructions: original | masked input | reconstruction | reconstruction + visible.

    python tools/visualize_reconstruction.py CONFIG CHECKPOINT IMAGE [IMAGE ...] --out PNG [--seed S]

Each image goes through the config's test pipeline (resize and centre crop) and the model's
data preprocessor, then one row of four panels is drawn. With ``norm_pix`` the predicted
patches are mapped back to pixels with each true patch's mean and variance.
"""
import argparse
import os
import os.path as osp

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmengine.visualization import Visualizer

from mae_mm.models.vit import patchify, unpatchify
from mae_mm.registry import MODELS
from mae_mm.runtime import setup_runtime

TITLES = ('original', 'masked', 'reconstruction', 'reconstruction + visible')


def parse_args():
    parser = argparse.ArgumentParser(description='Visualise MAE reconstructions')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--seed', type=int, default=0, help='seed of the masking noise')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args()


def test_pipeline(cfg):
    """The config's evaluation pipeline (falls back to the training one)."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key)
        if loader is not None:
            return Compose(loader.dataset.pipeline)
    raise KeyError(f'{cfg.filename} has no dataloader to take an image pipeline from')


@torch.no_grad()
def reconstruction_panels(model, imgs, seed):
    """(B, 3, H, W) normalised -> four (B, 3, H, W) normalised images, one per panel."""
    p = model.patch_size
    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(imgs.shape[0], model.encoder.num_patches, generator=gen).to(imgs.device)
    pred, mask = model.reconstruct(imgs, noise)
    patches = patchify(imgs, p)
    pixels = model.pixel_loss.to_pixels(pred, patches)
    keep = (1 - mask).unsqueeze(-1)
    grid = model.encoder.grid_size
    masked = unpatchify(patches * keep, p, grid)
    recon = unpatchify(pixels, p, grid)
    pasted = unpatchify(patches * keep + pixels * (1 - keep), p, grid)
    return imgs, masked, recon, pasted, mask


def to_uint8(imgs, preprocessor):
    """Normalised (B, 3, H, W) -> (B, H, W, 3) uint8 RGB."""
    mean = preprocessor.mean.to(imgs.device)
    std = preprocessor.std.to(imgs.device)
    return (imgs * std + mean).clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()


def main():
    setup_runtime()
    args = parse_args()
    cfg = Config.fromfile(args.config)
    DefaultScope.get_instance('visualize_reconstruction', scope_name=cfg.get('default_scope', 'mae_mm'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()

    pipeline = test_pipeline(cfg)
    batch = pseudo_collate([pipeline(dict(img_path=path)) for path in args.images])
    imgs = model.data_preprocessor(batch, training=False)['inputs']
    panels = reconstruction_panels(model, imgs, args.seed)
    mask = panels[-1]
    rows = [to_uint8(panel, model.data_preprocessor) for panel in panels[:-1]]
    masked_gray = rows[1].copy()
    # grey out the masked patches of the "masked" panel
    p = model.patch_size
    m = unpatchify(mask[..., None].expand(-1, -1, p * p * 3), p, model.encoder.grid_size)
    m = m.permute(0, 2, 3, 1).cpu().numpy() > 0.5
    masked_gray[m] = 127
    rows[1] = masked_gray

    # enlarge small inputs (nearest neighbour keeps the patch grid visible) to >= 160 px panels
    zoom = max(1, -(-160 // rows[0].shape[2]))
    rows = [panel.repeat(zoom, axis=1).repeat(zoom, axis=2) for panel in rows]
    h, w = rows[0].shape[1:3]
    pad, title_h = 4, 18
    canvas = np.full((len(args.images) * (h + pad) + title_h, 4 * (w + pad), 3), 255, np.uint8)
    for i in range(len(args.images)):
        for j, panel in enumerate(rows):
            y, x = title_h + i * (h + pad), j * (w + pad)
            canvas[y:y + h, x:x + w] = panel[i]
    vis = Visualizer()
    vis.set_image(canvas)
    positions = np.array([[j * (w + pad) + 2, 2] for j in range(4)])
    vis.draw_texts(list(TITLES), positions, colors='black', font_sizes=10)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    mmcv.imwrite(vis.get_image()[..., ::-1], args.out)
    print(f'wrote {args.out}: {len(args.images)} image(s), mask ratio {model.encoder.mask_ratio}, seed {args.seed}')


if __name__ == '__main__':
    main()
