"""The project's ViT as a semantic segmentation backbone (UperNet on ADE20K, the MAE paper's Table 5)."""
from typing import Optional, Sequence, Tuple

import torch
from torch.utils.checkpoint import checkpoint

from mae_mm.registry import MODELS
from ..vit import PlainViT, checked_patch_kernel_mode, fit_patch_kernel_in_state_dict
from .rel_pos_bias import RelativePositionBias


@MODELS.register_module()
class SegViTBackbone(PlainViT):
    """:class:`PlainViT` returning the patch tokens of four blocks as (B, D, H/p, W/p) maps.

    A pretraining checkpoint loads as it is, through
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH, prefix='encoder.')``: the parameter names
    are the MAE encoder's; ``pos_embed`` is resampled to ``img_size // patch_size`` and a patch
    kernel of another size (ViT-H/14 used with 16 x 16 patches) is resampled at load
    (``patch_kernel_mode``). The checkpoint's final ``norm`` is not used (the features are the
    blocks' raw outputs, as in BEiT's and MAE's segmentation code).

    Args:
        arch (str | dict): A preset of :data:`~mae_mm.models.vit.VIT_ARCHS` (``'base'``...).
        img_size (int | tuple): The crop size; sets the position grid and the bias tables.
            Other input sizes work too (the tables are resampled on the fly).
        patch_size (int, optional): Overrides the preset's patch size (16 for ViT-H/14).
        out_indices (sequence[int]): 0-based indices of the blocks whose outputs are returned
            (block ``i`` is the (i+1)-th block): (3, 5, 7, 11) for ViT-B.
        drop_path_rate (float): Stochastic depth, rising linearly over the blocks to this.
        rel_pos_bias (bool): Adds a zero-initialised relative position bias to every block
            (``blocks.N.rel_pos_bias.relative_position_bias_table``), as the paper's appendix.
        with_checkpoint (bool): Activation checkpointing of every block while training.
        patch_kernel_mode (str): How a checkpoint's patch kernel of another size is resampled at
            load: ``'bicubic'`` (ViTDet's, as the COCO backbone) or ``'pinv'`` (FlexiViT's,
            scale-preserving); see :func:`~mae_mm.models.vit.resample_patch_kernel`.
        init_cfg (dict, optional): mmengine init config, e.g. the ``Pretrained`` one above.
        **kwargs: Other :class:`PlainViT` arguments (``qkv_bias``, ``pos_embed_trainable``...).
    """

    def __init__(self,
                 arch='base',
                 img_size=512,
                 patch_size: Optional[int] = None,
                 out_indices: Sequence[int] = (3, 5, 7, 11),
                 drop_path_rate: float = 0.1,
                 rel_pos_bias: bool = True,
                 with_checkpoint: bool = False,
                 patch_kernel_mode: str = 'bicubic',
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(arch=arch, img_size=img_size, patch_size=patch_size, drop_path_rate=drop_path_rate,
                         final_norm=False, with_checkpoint=with_checkpoint, init_cfg=init_cfg, **kwargs)
        self.patch_kernel_mode = checked_patch_kernel_mode(patch_kernel_mode)
        self.out_indices = tuple(int(i) for i in out_indices)
        if not self.out_indices or any(not 0 <= i < self.depth for i in self.out_indices) \
                or list(self.out_indices) != sorted(set(self.out_indices)):
            raise ValueError(f'out_indices must be increasing block indices in [0, {self.depth}), '
                             f'got {self.out_indices}')
        self.use_rel_pos_bias = rel_pos_bias
        if rel_pos_bias:
            for blk in self.blocks:  # named blocks.N.rel_pos_bias.*, so layer decay puts it in block N
                blk.rel_pos_bias = RelativePositionBias(self.grid_size, self.num_heads)

    def forward(self, imgs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(B, C, H, W) -> one (B, D, H/p, W/p) map per entry of ``out_indices``."""
        x, (h, w) = self.patch_tokens(imgs)
        x = self.with_cls_token(x)
        outs = []
        for i, blk in enumerate(self.blocks):
            bias = blk.rel_pos_bias((h, w)).to(_attention_dtype(x)) if self.use_rel_pos_bias else None
            if self.with_checkpoint and self.training and x.requires_grad:
                x = checkpoint(blk, x, bias, use_reentrant=False)
            else:
                x = blk(x, bias)
            if i in self.out_indices:
                outs.append(x[:, 1:].transpose(1, 2).reshape(x.shape[0], -1, h, w))
        return tuple(outs)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Also resamples a checkpoint's patch kernel made for another patch size."""
        fit_patch_kernel_in_state_dict(state_dict, prefix + 'patch_embed.proj.weight', self.patch_embed.proj.weight,
                                       self.patch_kernel_mode)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _attention_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype attention logits have here: autocast's where it is on, else ``x``'s."""
    device = x.device.type
    if torch.is_autocast_enabled(device):
        return torch.get_autocast_dtype(device)
    return x.dtype
