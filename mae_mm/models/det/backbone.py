"""The project's ViT as a detection backbone, as ViTDet (Li et al., ECCV 2022) uses it."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint

from mae_mm.registry import MODELS

from ..vit import PlainViT, checked_patch_kernel_mode, fit_patch_kernel_in_state_dict, init_mae_weights, resolve_arch
from .window_attention import WindowBlock


@MODELS.register_module()
class ViTDetBackbone(PlainViT):
    """:class:`PlainViT` with ViTDet's changes; returns the last feature map for the simple pyramid.

    - Window attention (``window_size`` x ``window_size`` tokens, zero-padded) in every block
      except ``global_blocks``.
    - A decomposed relative position bias in every block, zero-initialised.
    - No cls token and no final norm: the pretraining checkpoint's ``cls_token`` and ``norm.*``
      are left unused (they load as unexpected keys); every other ViT key loads.
    - ``pos_embed`` is kept on the pretraining grid (``pretrain_img_size // patch_size`` per
      side) and resampled bicubically to each input's grid in forward; a checkpoint of another
      grid is resampled to it when loaded.
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
        use_rel_pos (bool): Whether attention adds the relative position bias.
        drop_path_rate (float): Stochastic depth, rising linearly to this over the blocks.
        qkv_bias (bool): Bias on q/k/v.
        with_checkpoint (bool): Activation checkpointing of every block while training.
        patch_kernel_mode (str): How a checkpoint's patch kernel of another size is resampled at
            load: ``'bicubic'`` (ViTDet's) or ``'pinv'``; see
            :func:`~mae_mm.models.vit.resample_patch_kernel`.
        init_cfg (dict, optional): E.g. ``dict(type='Pretrained', checkpoint=PATH, prefix='encoder.')``
            for a pretraining checkpoint of this project.

    Forward: (B, 3, H, W) with H, W multiples of the patch size -> a 1-tuple (B, D, H/p, W/p).
    """

    def __init__(self,
                 arch='base',
                 patch_size: Optional[int] = None,
                 img_size=1024,
                 pretrain_img_size: int = 224,
                 window_size: int = 14,
                 global_blocks: Sequence[int] = (2, 5, 8, 11),
                 use_rel_pos: bool = True,
                 drop_path_rate: float = 0.0,
                 qkv_bias: bool = True,
                 with_checkpoint: bool = False,
                 patch_kernel_mode: str = 'bicubic',
                 init_cfg: Optional[dict] = None):
        patch = patch_size or resolve_arch(arch)['patch_size']
        pos_grid = pretrain_img_size // patch
        super().__init__(arch=arch, img_size=pos_grid * patch, patch_size=patch, drop_path_rate=drop_path_rate,
                         qkv_bias=qkv_bias, final_norm=False, with_checkpoint=with_checkpoint, init_cfg=init_cfg)
        self.patch_kernel_mode = checked_patch_kernel_mode(patch_kernel_mode)
        self.cls_token = None  # detection uses patch tokens only
        img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        train_grid = (img_size[0] // patch, img_size[1] // patch)
        self.global_blocks = tuple(sorted(global_blocks))
        if any(not 0 <= i < self.depth for i in self.global_blocks):
            raise ValueError(f'global_blocks {self.global_blocks} are not all in 0..{self.depth - 1}')
        rates = [drop_path_rate * i / max(self.depth - 1, 1) for i in range(self.depth)]
        self.blocks = nn.ModuleList(
            WindowBlock(self.embed_dim, self.num_heads, self.arch['mlp_ratio'], qkv_bias, drop_path=rates[i],
                        window_size=0 if i in self.global_blocks else window_size, grid_size=train_grid,
                        use_rel_pos=use_rel_pos)
            for i in range(self.depth))
        init_mae_weights(self.blocks)

    def forward(self, imgs: torch.Tensor) -> Tuple[torch.Tensor]:
        """(B, 3, H, W) -> ((B, D, H/p, W/p),)."""
        x, hw = self.patch_tokens(imgs)  # (B, h*w, D), position added
        for blk in self.blocks:
            if self.with_checkpoint and self.training and x.requires_grad:
                x = checkpoint(blk, x, hw, use_reentrant=False)
            else:
                x = blk(x, hw)
        return (x.transpose(1, 2).reshape(x.shape[0], self.embed_dim, *hw),)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Resamples a checkpoint's patch kernel made for another patch size to ours."""
        fit_patch_kernel_in_state_dict(state_dict, prefix + 'patch_embed.proj.weight', self.patch_embed.proj.weight,
                                       self.patch_kernel_mode)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
