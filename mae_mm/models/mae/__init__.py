from .data_preprocessor import MAEDataPreprocessor
from .decoder import MAEDecoder
from .encoder import MAEEncoder
from .loss import MaskedPixelLoss
from .masking import random_masking
from .pretrainer import MaskedAutoencoder

__all__ = ['MAEDataPreprocessor', 'MAEDecoder', 'MAEEncoder', 'MaskedPixelLoss', 'random_masking', 'MaskedAutoencoder']
