from .arch import VIT_ARCHS, resolve_arch
from .block import Attention, Block, Mlp, init_mae_weights
from .patch_embed import PatchEmbed, patchify, unpatchify
from .patch_resample import (PATCH_KERNEL_MODES, checked_patch_kernel_mode, fit_patch_kernel_in_state_dict,
                             resample_patch_kernel)
from .pos_embed import resample_pos_embed, sincos_1d, sincos_2d_table
from .vision_transformer import PlainViT

__all__ = ['VIT_ARCHS', 'resolve_arch', 'Attention', 'Block', 'Mlp', 'init_mae_weights', 'PatchEmbed',
           'patchify', 'unpatchify', 'PATCH_KERNEL_MODES', 'checked_patch_kernel_mode',
           'fit_patch_kernel_in_state_dict', 'resample_patch_kernel', 'resample_pos_embed', 'sincos_1d',
           'sincos_2d_table', 'PlainViT']
