"""The project's ViT as a semantic segmentation backbone (UperNet on ADE20K, the MAE paper's Table 5)."""
from typing import Optional, Sequence

from mae_mm.registry import MODELS
from ..vit import PlainViT, image_grid, refuse_renamed, resolve_arch
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
        img_size (int | tuple): The crop size; sets the position grid (:class:`PlainViT`'s
            ``pos_embed_img_size``) and the bias tables. Other input sizes work too (the tables
            are resampled on the fly).
        patch_size (int, optional): Overrides the preset's patch size (16 for ViT-H/14).
        out_indices (sequence[int]): 0-based indices of the blocks whose outputs are returned
            (block ``i`` is the (i+1)-th block): (3, 5, 7, 11) for ViT-B.
        drop_path_rate (float): Stochastic depth, rising linearly over the blocks to this.
        rel_pos_bias (bool): Adds BEiT's zero-initialised relative position bias
            (:class:`RelativePositionBias`) to every block
            (``blocks.N.rel_pos_bias.relative_position_bias_table``), as the paper's appendix.
        patch_kernel_mode (str): How a checkpoint's patch kernel of another size is resampled at
            load: ``'bicubic'`` (ViTDet's, as the COCO backbone) or ``'pinv'`` (FlexiViT's,
            scale-preserving); see :func:`~mae_mm.models.vit.resample_patch_kernel`.
        **kwargs: Other :class:`PlainViT` arguments: ``with_checkpoint`` (activation checkpointing
            while training), ``init_cfg`` (e.g. the ``Pretrained`` one above), ``qkv_bias``,
            ``pos_embed_trainable``...

    Forward: (B, C, H, W) -> one (B, D, H/p, W/p) map per entry of ``out_indices``.
    """

    def __init__(self, arch='base', img_size=512, patch_size: Optional[int] = None,
                 out_indices: Sequence[int] = (3, 5, 7, 11), drop_path_rate: float = 0.1, rel_pos_bias: bool = True,
                 patch_kernel_mode: str = 'bicubic', **kwargs):
        grid_from_crop = 'the position table is stored for img_size, the crop size'
        refuse_renamed(type(self).__name__, kwargs, dict(pretrain_img_size=grid_from_crop,
                                                         pos_embed_img_size=grid_from_crop), others_allowed=True)
        _, grid = image_grid(img_size, resolve_arch(arch, patch_size)['patch_size'], 'img_size')
        bias = (lambda attn: RelativePositionBias(grid, attn.num_heads)) if rel_pos_bias else None
        super().__init__(arch=arch, pos_embed_img_size=img_size, patch_size=patch_size, drop_path_rate=drop_path_rate,
                         out_type='featmaps', out_indices=out_indices, block_options=lambda i: dict(rel_pos_bias=bias),
                         patch_kernel_mode=patch_kernel_mode, **kwargs)
