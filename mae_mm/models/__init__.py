from . import cls, det, seg  # noqa: F401  (register the transfer models)
from .mae import MAEDecoder, MAEEncoder, MaskedAutoencoder, MaskedPixelLoss, random_masking
from .vit import PlainViT

__all__ = ['MAEDecoder', 'MAEEncoder', 'MaskedAutoencoder', 'MaskedPixelLoss', 'random_masking', 'PlainViT']
