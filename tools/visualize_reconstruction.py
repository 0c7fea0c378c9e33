"""Draws MAE reconstructions: original | masked input | reconstruction | reconstruction + visible.

    python tools/visualize_reconstruction.py CONFIG CHECKPOINT IMAGE [IMAGE ...] --out PNG [--seed S]
        [--cfg-options KEY=VALUE ...]

Each image goes through the config's test pipeline (resize and centre crop) and the model's
data preprocessor, then one row of four panels is drawn (mae_mm/visualization/reconstruction_panel.py,
the drawing ReconstructionVisHook uses during training). The masking noise comes from a generator
seeded with --seed, drawn by the model's mask generator (``model.encoder.mask_generator``: the masks
it trains with). With ``NormalizedPixelTarget`` (the default target) the predicted patches are
mapped back to pixels with each true patch's mean and variance.

A model with a ``HOGTarget`` predicts HOG, not pixels; its two right columns are then titled
"HOG of the image" and "predicted HOG + visible": glyph pictures of the histograms (in each HOG
cell one line per orientation bin, along the edges of that bin, as bright as the bin's value
averaged over the colour channels), of the image and of the prediction on the masked patches with
the image's on the visible ones, both scaled by the largest value of the image's own HOG.
"""
import argparse
import os
import os.path as osp

import mmcv
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from mae_mm.registry import MODELS
from mae_mm.runtime import setup_runtime
from mae_mm.visualization import masking_noise, reconstruction_panel


def parse_args():
    parser = argparse.ArgumentParser(description='Visualise MAE reconstructions')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--seed', type=int, default=0, help='seed of the masking noise')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.encoder.mask_generator.type=BlockwiseMasking '
                             '(another mask generator\'s panel of the same weights)')
    return parser.parse_args()


def test_pipeline(cfg):
    """The config's evaluation pipeline (falls back to the training one)."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key)
        if loader is not None:
            return Compose(loader.dataset.pipeline)
    raise KeyError(f'{cfg.filename} has no dataloader to take an image pipeline from')


def main():
    setup_runtime()
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    DefaultScope.get_instance('visualize_reconstruction', scope_name=cfg.get('default_scope', 'mae_mm'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()

    pipeline = test_pipeline(cfg)
    batch = pseudo_collate([pipeline(dict(img_path=path)) for path in args.images])
    imgs = model.data_preprocessor(batch, training=False)['inputs']
    noise = masking_noise(model.encoder, len(args.images), args.seed)
    canvas = reconstruction_panel(model, imgs, noise)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    mmcv.imwrite(canvas[..., ::-1], args.out)
    print(f'wrote {args.out}: {len(args.images)} image(s), mask ratio {model.encoder.mask_ratio}, '
          f'{model.encoder.mask_generator!r}, seed {args.seed}')


if __name__ == '__main__':
    main()
