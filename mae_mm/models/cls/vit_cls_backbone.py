"""The project's ViT as an mmpretrain classification backbone (fine-tuning and linear probing)."""
from typing import Optional, Tuple

import torch

from mae_mm.registry import MODELS
from ..vit import PlainViT, image_grid, refuse_renamed, resolve_arch


@MODELS.register_module()
class ViTClsBackbone(PlainViT):
    """:class:`PlainViT` returning one feature per image, for ``mmpretrain.ImageClassifier``.

    Args:
        arch (str | dict): A preset of :data:`~mae_mm.models.vit.VIT_ARCHS` or a dict.
        img_size (int | tuple): The input size; the position table is laid out for its grid
            (:class:`PlainViT`'s ``pos_embed_img_size``), so a pretraining checkpoint's table of
            another grid is resampled once, at load.
        patch_size (int, optional): Overrides the preset's patch size.
        out_type (str): ``'avg_featmap'`` (fine-tuning, the paper's default): the mean of the
            patch tokens through a LayerNorm ``fc_norm``; the final ``norm`` is not built, as in
            the paper's code. ``'cls_token'`` (linear probing): the cls token after ``norm``.
        frozen (bool): Freeze every parameter and keep the module in eval mode (linear probing).
        **kwargs: :class:`PlainViT` arguments; the position table is trainable here.

    A pretraining checkpoint loads through ``init_cfg=dict(type='Pretrained', checkpoint=PATH,
    prefix='encoder.')``: the decoder and mask token are not under that prefix, ``pos_embed``
    is resampled if the resolution differs, and a shape mismatch fails.
    """

    OUT_TYPES = ('avg_featmap', 'cls_token')

    def __init__(self, arch='base', img_size=224, patch_size: Optional[int] = None, out_type: str = 'avg_featmap',
                 frozen: bool = False, **kwargs):
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, got {out_type!r}')
        grid_from_input = 'the position table is stored for img_size, the input size'
        refuse_renamed(type(self).__name__, kwargs, dict(pretrain_img_size=grid_from_input,
                                                         pos_embed_img_size=grid_from_input), others_allowed=True)
        image_grid(img_size, resolve_arch(arch, patch_size)['patch_size'], 'img_size')
        super().__init__(arch=arch, pos_embed_img_size=img_size, patch_size=patch_size, out_type=out_type, **kwargs)
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def train(self, mode: bool = True):
        """A frozen backbone stays in eval mode."""
        return super().train(mode and not self.frozen)

    def forward(self, imgs: torch.Tensor) -> Tuple[torch.Tensor]:
        """(B, C, H, W) -> ((B, D),): the pooled or cls feature, as a 1-tuple (mmpretrain's convention)."""
        return (super().forward(imgs),)
