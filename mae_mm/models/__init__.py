"""The ViT, MAE and the classification backbone. The detection (``mae_mm.models.det``) and
segmentation (``mae_mm.models.seg``) parts are imported by the configs that use them
(``custom_imports``), so that a pretraining run never imports mmdet or mmseg."""
from . import cls  # noqa: F401  (registers the classification backbone)
from .mae import (HOGTarget, MAEDecoder, MAEEncoder, MaskedAutoencoder, MaskedPixelLoss, NormalizedPixelTarget,
                  PixelTarget, ReconstructionTarget, random_masking)
from .vit import PlainViT

__all__ = ['HOGTarget', 'MAEDecoder', 'MAEEncoder', 'MaskedAutoencoder', 'MaskedPixelLoss', 'NormalizedPixelTarget',
           'PixelTarget', 'ReconstructionTarget', 'random_masking', 'PlainViT']
