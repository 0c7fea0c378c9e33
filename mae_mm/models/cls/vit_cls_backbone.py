"""The project's ViT as an mmpretrain classification backbone (fine-tuning and linear probing)."""
from typing import Tuple

import torch
import torch.nn as nn

from mae_mm.registry import MODELS
from ..vit import PlainViT


@MODELS.register_module()
class ViTClsBackbone(PlainViT):
    """:class:`PlainViT` returning one feature per image, for ``mmpretrain.ImageClassifier``.

    Args:
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

    def __init__(self, out_type: str = 'avg_featmap', frozen: bool = False, **kwargs):
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, got {out_type!r}')
        kwargs.setdefault('final_norm', out_type == 'cls_token')
        super().__init__(**kwargs)
        self.out_type = out_type
        if out_type == 'avg_featmap':
            self.fc_norm = nn.LayerNorm(self.embed_dim, eps=1e-6)
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def train(self, mode: bool = True):
        """A frozen backbone stays in eval mode."""
        return super().train(mode and not self.frozen)

    def forward(self, imgs: torch.Tensor) -> Tuple[torch.Tensor]:
        """(B, C, H, W) -> ((B, D),): the pooled or cls feature, as a 1-tuple (mmpretrain's convention)."""
        x, _ = self.patch_tokens(imgs)
        x = self.run_blocks(self.with_cls_token(x))
        if self.out_type == 'avg_featmap':
            return (self.fc_norm(x[:, 1:].mean(dim=1)),)
        return (self.norm(x)[:, 0],)
