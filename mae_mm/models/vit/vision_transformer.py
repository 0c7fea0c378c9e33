"""The one plain ViT that every task of this project configures.

Pretraining (the MAE encoder), fine-tuning, linear probing, detection and segmentation are all
:class:`PlainViT`: they choose the block options per depth (window attention, an attention bias),
whether there is a cls token and a final norm, and which tokens come out. They share parameter
names, so one pretraining checkpoint loads into each of them, and they share the one block loop.

Each task names the image size its position table is laid out for in its own terms (the MAE
encoder and ViTDet: ``pretrain_img_size``; the classifier and segmentation backbones: their input
``img_size``) and passes it on as :class:`PlainViT`'s ``pos_embed_img_size``.
"""
import math
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mae_mm.registry import MODELS
from .arch import resolve_arch
from .block import Block, init_mae_weights
from .block_loop import drop_path_rates, run_blocks
from .load_adaptation import adapted_state_keys
from .patch_embed import PatchEmbed
from .patch_resample import checked_patch_kernel_mode, fit_patch_kernel_in_state_dict
from .pos_embed import resample_pos_embed, sincos_2d_table
from .renamed import refuse_renamed, renamed_alias

OUT_TYPES = ('tokens', 'cls_token', 'avg_featmap', 'featmaps')


def image_grid(size, patch_size: int, name: str) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """``size`` (int or (H, W)) as (H, W), and its patch grid; a ValueError naming ``name`` if a side
    is not a multiple of the patch size."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if any(side % patch_size for side in size):
        raise ValueError(f'{name} {size} is not divisible by patch_size {patch_size}')
    return size, (size[0] // patch_size, size[1] // patch_size)


@MODELS.register_module()
class PlainViT(BaseModule):
    """A plain Vision Transformer with a fixed-init sin-cos position table.

    Args:
        arch (str | dict): ``'tiny'``, ``'small'``, ``'base'``, ``'large'``, ``'huge'`` or a dict with
            ``embed_dim``, ``depth``, ``num_heads``, ``patch_size`` (and ``mlp_ratio``).
        pos_embed_img_size (int | tuple): The image size whose patch grid the position table
            ``pos_embed`` is laid out for (``grid_size``: ``pos_embed_img_size // patch_size`` per
            side). A checkpoint's table of another grid is resampled to it at load, an input of
            another size uses a resampled copy. Its old name ``pretrain_img_size`` is accepted.
        patch_size (int, optional): Overrides the preset's patch size.
        in_chans (int): Input channels.
        drop_path_rate (float): Stochastic depth, rising linearly to this over the blocks.
        qkv_bias (bool): Bias on q/k/v.
        pos_embed_trainable (bool): Whether ``pos_embed`` learns (frozen in pretraining).
        cls_token (bool): Whether a cls token is prepended to the patch tokens.
        final_norm (bool, optional): Whether ``norm`` is built and applied after the blocks;
            by default for ``out_type`` ``'tokens'`` and ``'cls_token'`` only.
        out_type (str): What :meth:`forward` returns:
            ``'tokens'``: (B, 1 + L, D), all tokens after the final norm;
            ``'cls_token'``: (B, D), the cls token after the final norm (linear probing);
            ``'avg_featmap'``: (B, D), the mean patch token through ``fc_norm`` (fine-tuning);
            ``'featmaps'``: a tuple of (B, D, h, w) maps, the patch tokens after each block of
            ``out_indices`` (detection, segmentation).
        out_indices (sequence of int): The blocks of ``'featmaps'`` (0-based, increasing).
        block_options (callable, optional): The block factory: ``block_options(i)`` gives the
            extra :class:`Block` arguments of block ``i`` (``window_size``, ``rel_pos_bias``).
        patch_kernel_mode (str, optional): How a checkpoint's patch kernel of another size (a
            ViT-H/14's in a 16-pixel model) is resampled at load: ``'bicubic'`` or ``'pinv'``
            (:func:`~mae_mm.models.vit.resample_patch_kernel`); ``None`` refuses it.
        with_checkpoint (bool): Activation checkpointing over the blocks while training.
        checkpoint_pos_grid (tuple, optional): (h, w), the patch grid of the position table in a
            checkpoint to load when that grid is not square (a 224 x 320 pretraining's (14, 20)):
            a table of as many positions as ``grid_size`` is taken as laid out for ``grid_size``, a
            square number of other positions as a square grid, and any other count needs this key.
        init_cfg (dict, optional): mmengine init config, e.g. ``dict(type='Pretrained', ...)``.
        **renamed: Old argument names: ``pretrain_img_size`` (read as ``pos_embed_img_size``);
            ``img_size`` is refused naming ``pos_embed_img_size`` (it is a task backbone's input size).

    Attributes:
        grid_size (tuple): (h, w), the patch grid ``pos_embed`` is laid out for, row-major.

    State dict: ``cls_token`` (1, 1, D) where there is one, ``pos_embed`` (1, 1 + L, D) with a
    zero cls row (also without a cls token: the checkpoints' layout), ``patch_embed.proj.*``,
    ``blocks.N.*``, ``norm.*``, ``fc_norm.*``, as timm names them.
    """

    def __init__(self,
                 arch='base',
                 pos_embed_img_size=224,
                 patch_size: Optional[int] = None,
                 in_chans: int = 3,
                 drop_path_rate: float = 0.0,
                 qkv_bias: bool = True,
                 pos_embed_trainable: bool = True,
                 cls_token: bool = True,
                 final_norm: Optional[bool] = None,
                 out_type: str = 'tokens',
                 out_indices: Sequence[int] = (),
                 block_options: Optional[Callable[[int], dict]] = None,
                 patch_kernel_mode: Optional[str] = None,
                 with_checkpoint: bool = False,
                 checkpoint_pos_grid: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None,
                 **renamed):
        pos_embed_img_size = renamed_alias(type(self).__name__, renamed, 'pretrain_img_size', 'pos_embed_img_size',
                                           pos_embed_img_size, 224)
        refuse_renamed(type(self).__name__, renamed, dict(img_size=(
            'the stored position grid is set by pos_embed_img_size (img_size is the input size of the '
            'classification, detection and segmentation backbones)')))
        super().__init__(init_cfg=init_cfg)
        cfg = resolve_arch(arch, patch_size)
        self.arch = cfg
        self.embed_dim = cfg['embed_dim']
        self.depth = cfg['depth']
        self.num_heads = cfg['num_heads']
        self.patch_size = cfg['patch_size']
        _, self.grid_size = image_grid(pos_embed_img_size, self.patch_size, 'pos_embed_img_size')
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.out_type, self.out_indices = self._checked_outputs(out_type, out_indices)
        if final_norm is None:
            final_norm = out_type in ('tokens', 'cls_token')
        elif final_norm and out_type in ('avg_featmap', 'featmaps'):
            raise ValueError(f'final_norm=True with out_type {out_type!r}: that output never passes the final norm')
        self.patch_kernel_mode = None if patch_kernel_mode is None else checked_patch_kernel_mode(patch_kernel_mode)
        self.with_checkpoint = with_checkpoint
        self.checkpoint_pos_grid = self._checked_grid(checkpoint_pos_grid)

        self.patch_embed = PatchEmbed(self.patch_size, in_chans, self.embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dim)) if cls_token else None
        self.num_prefix = int(cls_token)
        self.pos_embed = nn.Parameter(sincos_2d_table(self.embed_dim, self.grid_size)[None],
                                      requires_grad=pos_embed_trainable)
        options = block_options or (lambda i: {})
        self.blocks = nn.ModuleList(
            Block(self.embed_dim, self.num_heads, cfg['mlp_ratio'], qkv_bias, drop_path=rate, **options(i))
            for i, rate in enumerate(drop_path_rates(drop_path_rate, self.depth)))
        self.norm = nn.LayerNorm(self.embed_dim, eps=1e-6) if final_norm else nn.Identity()
        if out_type == 'avg_featmap':
            self.fc_norm = nn.LayerNorm(self.embed_dim, eps=1e-6)
        self._init_paper_weights()

    def _checked_outputs(self, out_type: str, out_indices: Sequence[int]) -> Tuple[str, Tuple[int, ...]]:
        if out_type not in OUT_TYPES:
            raise ValueError(f'out_type must be one of {OUT_TYPES}, got {out_type!r}')
        out_indices = tuple(int(i) for i in out_indices)
        if out_type != 'featmaps':
            if out_indices:
                raise ValueError(f'out_indices {out_indices} are only read with out_type="featmaps"')
        elif not out_indices or any(not 0 <= i < self.depth for i in out_indices) \
                or list(out_indices) != sorted(set(out_indices)):
            raise ValueError(f'out_indices must be increasing block indices in [0, {self.depth}), got {out_indices}')
        return out_type, out_indices

    @staticmethod
    def _checked_grid(grid: Optional[Sequence[int]]) -> Optional[Tuple[int, int]]:
        if grid is None:
            return None
        if isinstance(grid, (str, bytes)) or len(grid) != 2 or any(
                isinstance(side, bool) or not isinstance(side, int) or side < 1 for side in grid):
            raise ValueError(f'checkpoint_pos_grid must be (h, w), two positive integers (patches), got {grid!r}')
        return tuple(grid)

    def _init_paper_weights(self) -> None:
        init_mae_weights(self)
        w = self.patch_embed.proj.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patch_embed.proj.bias)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=0.02)

    # -- the pieces every task runs ----------------------------------------------------------
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

    def run_blocks(self, x: torch.Tensor, grid_hw: Optional[Tuple[int, int]] = None,
                   out_indices: Sequence[int] = ()) -> Tuple[torch.Tensor, list]:
        """(B, N, D) -> the last block's (B, N, D) and the ``out_indices`` blocks' outputs
        (:func:`~mae_mm.models.vit.run_blocks`, checkpointed while training when enabled)."""
        return run_blocks(self.blocks, x, grid_hw, self.with_checkpoint and self.training, out_indices)

    def featmap(self, x: torch.Tensor, grid_hw: Tuple[int, int]) -> torch.Tensor:
        """(B, prefix + h*w, D) tokens -> (B, D, h, w), the patch tokens as a map."""
        return x[:, self.num_prefix:].transpose(1, 2).reshape(x.shape[0], -1, *grid_hw)

    def forward(self, imgs: torch.Tensor):
        """(B, C, H, W) -> the output ``out_type`` names (see the class docstring)."""
        x, grid = self.patch_tokens(imgs)
        if self.cls_token is not None:
            x = self.with_cls_token(x)
        x, outs = self.run_blocks(x, grid, self.out_indices)
        if self.out_type == 'featmaps':
            return tuple(self.featmap(out, grid) for out in outs)
        if self.out_type == 'avg_featmap':
            return self.fc_norm(x[:, self.num_prefix:].mean(dim=1))
        x = self.norm(x)
        return x[:, 0] if self.out_type == 'cls_token' else x

    # -- checkpoint loading ----------------------------------------------------------------
    @property
    def adapted_at_load(self) -> Tuple[str, ...]:
        """The state-dict names this module resamples at load: the position table, and the patch
        kernel when ``patch_kernel_mode`` is set (:func:`~mae_mm.models.vit.adapted_state_keys`)."""
        return ('pos_embed',) + (('patch_embed.proj.weight',) if self.patch_kernel_mode else ())

    def source_pos_grid(self, num_positions: int, key: str = 'pos_embed') -> Tuple[int, int]:
        """The (h, w) grid of a loaded position table of ``num_positions`` rows after the cls row, of
        a count other than ``grid_size``'s: ``checkpoint_pos_grid`` when set, else the square
        of that count; a ValueError naming ``checkpoint_pos_grid`` when neither fits."""
        if self.checkpoint_pos_grid is not None:
            h, w = self.checkpoint_pos_grid
            if h * w != num_positions:
                raise ValueError(f'{key}: the checkpoint\'s position table has {num_positions} positions, '
                                 f'checkpoint_pos_grid={self.checkpoint_pos_grid} has {h * w}')
            return h, w
        side = math.isqrt(num_positions)
        if side * side == num_positions:
            return side, side
        grids = [(h, num_positions // h) for h in range(1, num_positions + 1) if num_positions % h == 0]
        raise ValueError(f'{key}: the checkpoint\'s position table has {num_positions} positions, not a square '
                         f'grid, and cannot be resampled to {self.grid_size} without its (h, w): set '
                         f'checkpoint_pos_grid of {type(self).__name__} to the grid it was laid out for, one of '
                         f'{grids} (e.g. (14, 20) for a 224 x 320 input with 16-pixel patches)')

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Resamples a checkpoint's ``pos_embed`` to our grid, per axis from the grid
        :meth:`source_pos_grid` gives (and its patch kernel to our patch size,
        with ``patch_kernel_mode``), then refuses any other shape mismatch but those a sub-module
        adapts when it loads (BEiT's bias tables).

        torch would only note a mismatch and mmengine's non-strict loading would log it and
        go on with random weights; here it stops the load, naming every key and both shapes.
        """
        key = prefix + 'pos_embed'
        if key in state_dict and state_dict[key].shape != self.pos_embed.shape:
            src = state_dict[key]
            if src.dim() == 3 and src.shape[-1] == self.embed_dim:
                src_grid = self.source_pos_grid(src.shape[1] - 1, key)
                state_dict[key] = resample_pos_embed(src, self.grid_size, src_grid)
        if self.patch_kernel_mode:
            fit_patch_kernel_in_state_dict(state_dict, prefix + 'patch_embed.proj.weight',
                                           self.patch_embed.proj.weight, self.patch_kernel_mode)
        adapted_below = adapted_state_keys(self, include_root=False)
        own = self.state_dict(keep_vars=True)  # the whole subtree, checked once at its root
        mismatched = [f'{prefix}{name}: checkpoint {tuple(state_dict[prefix + name].shape)} vs model '
                      f'{tuple(tensor.shape)}' for name, tensor in own.items()
                      if prefix + name in state_dict and name not in adapted_below
                      and state_dict[prefix + name].shape != tensor.shape]
        if mismatched:
            raise ValueError(f'checkpoint does not fit {type(self).__name__} (arch {self.arch}, '
                             f'position grid {self.grid_size}):\n  ' + '\n  '.join(mismatched))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
