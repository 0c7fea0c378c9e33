from .data_preprocessor import MAEDataPreprocessor
from .decoder import MAEDecoder
from .encoder import MAEEncoder
from .loss import MaskedPixelLoss
from .mask_generators import BlockwiseMasking, GridMasking, MaskGenerator, RandomMasking, build_mask_generator
from .masking import random_masking
from .pretrainer import MaskedAutoencoder

__all__ = ['MAEDataPreprocessor', 'MAEDecoder', 'MAEEncoder', 'MaskedPixelLoss', 'random_masking', 'MaskedAutoencoder',
           'MaskGenerator', 'RandomMasking', 'BlockwiseMasking', 'GridMasking', 'build_mask_generator']
