"""Pictures of a run: the reconstruction panel, and the visualiser backends of tools/train.py --vis."""
from .reconstruction_panel import TITLES, masking_noise, reconstruction_images, reconstruction_panel, to_uint8
from .vis_backends import VIS_BACKENDS, vis_backend_configs

__all__ = ['TITLES', 'masking_noise', 'reconstruction_images', 'reconstruction_panel', 'to_uint8',
           'VIS_BACKENDS', 'vis_backend_configs']
