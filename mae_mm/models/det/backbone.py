"""The project's ViT as a detection backbone, as ViTDet (Li et al., ECCV 2022) configures it."""
import functools
from typing import Optional, Sequence

from mae_mm.registry import MODELS

from ..vit import PlainViT, refuse_renamed, resolve_arch
from .decomposed_rel_pos import DecomposedRelPosBias


@MODELS.register_module()
class ViTDetBackbone(PlainViT):
    """:class:`PlainViT` configured as ViTDet; returns the last feature map for the simple pyramid.

    - Window attention (``window_size`` x ``window_size`` tokens, zero-padded) in every block
      except ``global_blocks``.
    - A decomposed relative position bias (:class:`DecomposedRelPosBias`) in every block,
      zero-initialised.
    - No cls token and no final norm: the pretraining checkpoint's ``cls_token`` and ``norm.*``
      are left unused (they load as unexpected keys); every other ViT key loads.
    - ``pos_embed`` is kept on the pretraining grid (``pretrain_img_size // patch_size`` per
      side: :class:`PlainViT`'s ``pos_embed_img_size``) and resampled bicubically to each
      input's grid in forward; a checkpoint of another grid is resampled to it when loaded.
    - A checkpoint with another patch size (ViT-H/14 used with 16 x 16 patches) has its patch
      projection resampled to ``patch_size`` when loaded (``patch_kernel_mode``).

    Args:
        arch (str | dict): A preset of ``mae_mm.models.vit.VIT_ARCHS`` or a dict.
        patch_size (int, optional): Overrides the preset's patch size.
        img_size (int | tuple): The training input (1024 with LSJ); sizes the relative position
            tables of the global blocks, which are resampled for other inputs.
        pretrain_img_size (int): The pretraining resolution, which sets the stored position grid.
        window_size (int): Window side in tokens (14).
        global_blocks (sequence of int): Blocks with global attention (B: 2, 5, 8, 11).
        rel_pos_bias (bool): Whether attention adds the relative position bias.
        patch_kernel_mode (str): How a checkpoint's patch kernel of another size is resampled at
            load: ``'bicubic'`` (ViTDet's) or ``'pinv'``; see
            :func:`~mae_mm.models.vit.resample_patch_kernel`.
        **kwargs: Other :class:`PlainViT` arguments: ``drop_path_rate`` (rising linearly over the
            blocks), ``qkv_bias``, ``with_checkpoint`` (activation checkpointing while training),
            ``init_cfg`` (e.g. ``dict(type='Pretrained', checkpoint=PATH, prefix='encoder.')`` for a
            pretraining checkpoint of this project).

    Forward: (B, 3, H, W) with H, W multiples of the patch size -> a 1-tuple (B, D, H/p, W/p).
    """

    def __init__(self,
                 arch='base',
                 patch_size: Optional[int] = None,
                 img_size=1024,
                 pretrain_img_size: int = 224,
                 window_size: int = 14,
                 global_blocks: Sequence[int] = (2, 5, 8, 11),
                 rel_pos_bias: bool = True,
                 patch_kernel_mode: str = 'bicubic',
                 **kwargs):
        refuse_renamed(type(self).__name__, kwargs, dict(
            use_rel_pos='the relative position flag is rel_pos_bias, as in the segmentation backbone',
            pos_embed_img_size='the position table is laid out for pretrain_img_size, the pretraining resolution'),
                       others_allowed=True)
        preset = resolve_arch(arch, patch_size)
        patch = preset['patch_size']
        img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        train_grid = (img_size[0] // patch, img_size[1] // patch)
        global_blocks = tuple(sorted(global_blocks))
        if any(not 0 <= i < preset['depth'] for i in global_blocks):
            raise ValueError(f'global_blocks {global_blocks} are not all in 0..{preset["depth"] - 1}')

        def block_options(i: int) -> dict:
            window = 0 if i in global_blocks else window_size
            table_grid = (window, window) if window else train_grid
            bias = functools.partial(DecomposedRelPosBias, grid_size=table_grid) if rel_pos_bias else None
            return dict(window_size=window, rel_pos_bias=bias)

        super().__init__(arch=arch, pos_embed_img_size=pretrain_img_size // patch * patch, patch_size=patch,
                         cls_token=False, out_type='featmaps', out_indices=(preset['depth'] - 1,),
                         block_options=block_options, patch_kernel_mode=patch_kernel_mode, **kwargs)
