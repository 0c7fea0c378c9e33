"""The one plain ViT that every task of this project builds on.

Pretraining (the MAE encoder), fine-tuning, detection and segmentation all subclass or wrap
:class:`PlainViT`, so they share parameter names and one pretraining checkpoint loads into
each of them.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch.utils.checkpoint import checkpoint

from mae_mm.registry import MODELS
from .arch import resolve_arch
from .block import Block, init_mae_weights
from .patch_embed import PatchEmbed
from .pos_embed import resample_pos_embed, sincos_2d_table


@MODELS.register_module()
class PlainViT(BaseModule):
    """A plain Vision Transformer with a cls token and a fixed-init sin-cos position table.

    Args:
        arch (str | dict): ``'tiny'``, ``'base'``, ``'large'``, ``'huge'`` or a dict with
            ``embed_dim``, ``depth``, ``num_heads``, ``patch_size`` (and ``mlp_ratio``).
        img_size (int | tuple): Training resolution; sets the stored position grid.
        patch_size (int, optional): Overrides the preset's patch size.
        in_chans (int): Input channels.
        drop_path_rate (float): Stochastic depth, rising linearly to this over the blocks.
        qkv_bias (bool): Bias on q/k/v.
        pos_embed_trainable (bool): Whether ``pos_embed`` learns (frozen in pretraining).
        final_norm (bool): Whether to apply ``norm`` after the blocks.
        with_checkpoint (bool): Activation checkpointing over the blocks while training.
        init_cfg (dict, optional): mmengine init config, e.g. ``dict(type='Pretrained', ...)``.

    State dict: ``cls_token`` (1, 1, D), ``pos_embed`` (1, 1 + L, D) with a zero cls row,
    ``patch_embed.proj.*``, ``blocks.N.*``, ``norm.*``, as timm names them.
    """

    def __init__(self,
                 arch='base',
                 img_size=224,
                 patch_size: Optional[int] = None,
                 in_chans: int = 3,
                 drop_path_rate: float = 0.0,
                 qkv_bias: bool = True,
                 pos_embed_trainable: bool = True,
                 final_norm: bool = True,
                 with_checkpoint: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        cfg = resolve_arch(arch)
        if patch_size is not None:
            cfg['patch_size'] = patch_size
        self.arch = cfg
        self.embed_dim = cfg['embed_dim']
        self.depth = cfg['depth']
        self.num_heads = cfg['num_heads']
        self.patch_size = cfg['patch_size']
        self.img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        for side in self.img_size:
            if side % self.patch_size:
                raise ValueError(f'img_size {self.img_size} is not divisible by patch_size {self.patch_size}')
        self.grid_size = (self.img_size[0] // self.patch_size, self.img_size[1] // self.patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.with_checkpoint = with_checkpoint

        self.patch_embed = PatchEmbed(self.patch_size, in_chans, self.embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
        self.pos_embed = nn.Parameter(sincos_2d_table(self.embed_dim, self.grid_size)[None],
                                      requires_grad=pos_embed_trainable)
        rates = [drop_path_rate * i / max(self.depth - 1, 1) for i in range(self.depth)]  # linear in depth
        self.blocks = nn.ModuleList(
            Block(self.embed_dim, self.num_heads, cfg['mlp_ratio'], qkv_bias, drop_path=r) for r in rates)
        self.norm = nn.LayerNorm(self.embed_dim, eps=1e-6) if final_norm else nn.Identity()
        self._init_paper_weights()

    def _init_paper_weights(self) -> None:
        init_mae_weights(self)
        w = self.patch_embed.proj.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patch_embed.proj.bias)
        nn.init.normal_(self.cls_token, std=0.02)

    # -- pieces shared by every task -------------------------------------------------------
    def patch_tokens(self, imgs: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """(B, C, H, W) -> patch tokens with position added (B, h*w, D), and the grid (h, w).

        An input grid that differs from the stored one uses a bicubic resample of the table.
        """
        x = self.patch_embed(imgs)
        grid = (imgs.shape[-2] // self.patch_size, imgs.shape[-1] // self.patch_size)
        pos = self.pos_embed
        if grid != self.grid_size:
            pos = resample_pos_embed(pos, grid, self.grid_size)
        return x + pos[:, 1:], grid

    def with_cls_token(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, 1 + N, D): prepends cls token + its (zero) position row."""
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        return torch.cat([cls, x], dim=1)

    def run_blocks(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D) through every block (checkpointed when enabled)."""
        for blk in self.blocks:
            if self.with_checkpoint and self.training and x.requires_grad:
                x = checkpoint(blk, x, use_reentrant=False)
            else:
                x = blk(x)
        return x

    def forward(self, imgs: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, 1 + L, D): cls and patch tokens after the final norm."""
        x, _ = self.patch_tokens(imgs)
        return self.norm(self.run_blocks(self.with_cls_token(x)))

    # -- checkpoint loading ----------------------------------------------------------------
    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Resamples a checkpoint's ``pos_embed`` to our grid, then refuses any other shape mismatch.

        torch would only note a mismatch and mmengine's non-strict loading would log it and
        go on with random weights; here it stops the load, naming every key and both shapes.
        """
        key = prefix + 'pos_embed'
        if key in state_dict and state_dict[key].shape != self.pos_embed.shape:
            src = state_dict[key]
            if src.dim() == 3 and src.shape[-1] == self.embed_dim:
                state_dict[key] = resample_pos_embed(src, self.grid_size)
        own = self.state_dict(keep_vars=True)  # the whole subtree, checked once at its root
        mismatched = [f'{prefix}{name}: checkpoint {tuple(state_dict[prefix + name].shape)} vs model '
                      f'{tuple(tensor.shape)}' for name, tensor in own.items()
                      if prefix + name in state_dict and state_dict[prefix + name].shape != tensor.shape]
        if mismatched:
            raise ValueError(f'checkpoint does not fit {type(self).__name__} (arch {self.arch}, '
                             f'img_size {self.img_size}):\n  ' + '\n  '.join(mismatched))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
