from .data_preprocessor import MAEDataPreprocessor
from .decoder import MAEDecoder
from .encoder import MAEEncoder
from .hog_target import HOGTarget
from .loss import MaskedPixelLoss
from .mask_generators import BlockwiseMasking, GridMasking, MaskGenerator, RandomMasking, build_mask_generator
from .masking import random_masking
from .pixel_target import NormalizedPixelTarget, PixelTarget
from .pretrainer import MaskedAutoencoder
from .target import ReconstructionTarget, build_target, registered_targets

__all__ = ['MAEDataPreprocessor', 'MAEDecoder', 'MAEEncoder', 'HOGTarget', 'MaskedPixelLoss', 'random_masking',
           'NormalizedPixelTarget', 'PixelTarget', 'MaskedAutoencoder', 'ReconstructionTarget', 'build_target',
           'registered_targets', 'MaskGenerator', 'RandomMasking', 'BlockwiseMasking', 'GridMasking',
           'build_mask_generator']
