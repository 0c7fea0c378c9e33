from .arch import VIT_ARCHS, resolve_arch
from .attention_bias import AttentionBias, relative_offsets
from .block import Attention, Block, Mlp, init_mae_weights
from .block_loop import drop_path_rates, run_blocks
from .load_adaptation import adapted_state_keys
from .patch_embed import PatchEmbed, patchify, unpatchify
from .patch_resample import (PATCH_KERNEL_MODES, checked_patch_kernel_mode, fit_patch_kernel_in_state_dict,
                             resample_patch_kernel)
from .pos_embed import resample_pos_embed, sincos_1d, sincos_2d_table
from .renamed import refuse_renamed
from .vision_transformer import OUT_TYPES, PlainViT, image_grid
from .window import window_partition, window_unpartition

__all__ = ['VIT_ARCHS', 'resolve_arch', 'AttentionBias', 'relative_offsets', 'Attention', 'Block', 'Mlp',
           'init_mae_weights', 'drop_path_rates', 'run_blocks', 'adapted_state_keys', 'PatchEmbed', 'patchify',
           'unpatchify', 'PATCH_KERNEL_MODES', 'checked_patch_kernel_mode', 'fit_patch_kernel_in_state_dict',
           'resample_patch_kernel', 'resample_pos_embed', 'sincos_1d', 'sincos_2d_table', 'refuse_renamed',
           'OUT_TYPES', 'PlainViT', 'image_grid', 'window_partition', 'window_unpartition']
