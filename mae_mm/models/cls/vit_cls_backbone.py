"""The project's ViT as an mmpretrain classification backbone (fine-tuning and linear probing)."""
from typing import Tuple

import torch

from mae_mm.registry import MODELS
from ..vit import PlainViT, refuse_renamed


@MODELS.register_module()
class ViTClsBackbone(PlainViT):
    """:class:`PlainViT` returning one feature per image, for ``mmpretrain.ImageClassifier``.

    Args:
        img_size (int | tuple): The input size; the position table is stored on its grid, so a
            pretraining checkpoint's table of another grid is resampled once, at load.
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
    position_grid_arg = 'img_size'

    def __init__(self, img_size=224, out_type: str = 'avg_featmap', frozen: bool = False, **kwargs):
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, got {out_type!r}')
        refuse_renamed(type(self).__name__, kwargs, dict(pretrain_img_size=(
            'the position table is stored for img_size, the input size')), others_allowed=True)
        super().__init__(pretrain_img_size=img_size, out_type=out_type, **kwargs)
        self.img_size = self.pretrain_img_size
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
