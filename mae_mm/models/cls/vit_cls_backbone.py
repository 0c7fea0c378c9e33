"""The project's ViT as an mmpretrain classification backbone (fine-tuning and linear probing)."""
from typing import Optional, Tuple

import torch

from mae_mm.registry import MODELS
from ..vit import PlainViT, image_grid, refuse_renamed, resolve_arch
from .partial_finetune import checked_partial_finetune, frozen_module_names


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
        trainable_blocks (int, optional): Partial fine-tuning (the paper's Fig. 9): only the last
            ``trainable_blocks`` blocks (an integer in [0, depth]), the norm after them and the
            head train; the patch embedding, cls token, position table and earlier blocks are
            frozen and stay in eval mode (no drop path) while the model trains. None: all train.
        trainable_block_parts (str): What of the trainable blocks trains: ``'all'``, or ``'mlp'``,
            the MLP sub-block only (``norm2``, ``mlp``; the paper's "MLP of the last block" with
            ``trainable_blocks=1``), the attention sub-block then frozen and in eval mode too.
        **kwargs: :class:`PlainViT` arguments; the position table is trainable here.

    A pretraining checkpoint loads through ``init_cfg=dict(type='Pretrained', checkpoint=PATH,
    prefix='encoder.')``: the decoder and mask token are not under that prefix, ``pos_embed``
    is resampled if the resolution differs, and a shape mismatch fails.
    """

    OUT_TYPES = ('avg_featmap', 'cls_token')

    def __init__(self, arch='base', img_size=224, patch_size: Optional[int] = None, out_type: str = 'avg_featmap',
                 frozen: bool = False, trainable_blocks: Optional[int] = None, trainable_block_parts: str = 'all',
                 **kwargs):
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, got {out_type!r}')
        grid_from_input = 'the position table is stored for img_size, the input size'
        refuse_renamed(type(self).__name__, kwargs, dict(pretrain_img_size=grid_from_input,
                                                         pos_embed_img_size=grid_from_input), others_allowed=True)
        size = resolve_arch(arch, patch_size)
        image_grid(img_size, size['patch_size'], 'img_size')
        checked_partial_finetune(size['depth'], trainable_blocks, trainable_block_parts, frozen)
        super().__init__(arch=arch, pos_embed_img_size=img_size, patch_size=patch_size, out_type=out_type, **kwargs)
        self.frozen = frozen
        self.frozen_module_names = [] if trainable_blocks is None else \
            frozen_module_names(self, trainable_blocks, trainable_block_parts)
        for name in self.frozen_module_names:
            self.get_submodule(name).requires_grad_(False)
        if trainable_blocks is not None:
            for param in (self.cls_token, self.pos_embed):
                if param is not None:
                    param.requires_grad_(False)
        if frozen:
            self.requires_grad_(False)
        self.train()

    def train(self, mode: bool = True):
        """A frozen backbone stays in eval mode; so do the frozen parts of a partial fine-tune."""
        super().train(mode and not self.frozen)
        for name in self.frozen_module_names:
            self.get_submodule(name).eval()
        return self

    def forward(self, imgs: torch.Tensor) -> Tuple[torch.Tensor]:
        """(B, C, H, W) -> ((B, D),): the pooled or cls feature, as a 1-tuple (mmpretrain's convention)."""
        return (super().forward(imgs),)
