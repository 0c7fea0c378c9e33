from .mae import MAEDecoder, MAEEncoder, MaskedAutoencoder, MaskedPixelLoss, random_masking
from .vit import PlainViT

__all__ = ['MAEDecoder', 'MAEEncoder', 'MaskedAutoencoder', 'MaskedPixelLoss', 'random_masking', 'PlainViT']
