"""Pictures of a run: the reconstruction panel, and the visualiser backends of tools/train.py --vis."""
from .hog_glyphs import hog_glyphs
from .reconstruction_panel import (HOG_TITLES, TITLES, hog_images, masking_noise, reconstruction_images,
                                   reconstruction_panel, to_uint8)
from .vis_backends import VIS_BACKENDS, vis_backend_configs

__all__ = ['HOG_TITLES', 'TITLES', 'hog_glyphs', 'hog_images', 'masking_noise', 'reconstruction_images',
           'reconstruction_panel', 'to_uint8', 'VIS_BACKENDS', 'vis_backend_configs']
