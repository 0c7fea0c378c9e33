"""The MAE encoder: the project's ViT run on the visible patches and the cls token only (or, as
the paper's Table 1c ablation, on every patch with a mask token in place of the masked ones)."""
from typing import Optional, Tuple

import torch
import torch.nn as nn

from mae_mm.registry import MODELS
from ..vit import PlainViT, image_grid, refuse_renamed, resolve_arch
from .mask_generators import build_mask_generator
from .masking import num_visible, random_masking


@MODELS.register_module()
class MAEEncoder(PlainViT):
    """:class:`PlainViT` with masking before the blocks; ``pos_embed`` stays frozen.

    Args:
        arch (str | dict): A preset of :data:`~mae_mm.models.vit.VIT_ARCHS` or a dict.
        pretrain_img_size (int | tuple): The pretraining input size, which every input must have;
            the position table is laid out for its patch grid (:class:`PlainViT`'s
            ``pos_embed_img_size``).
        patch_size (int, optional): Overrides the preset's patch size.
        mask_ratio (float): Fraction of patches masked per sample, in (0, 1).
        mask_generator (dict, optional): How the masked patches are sampled (MAE Table 1f):
            ``dict(type='RandomMasking')`` (the default), ``'BlockwiseMasking'`` or ``'GridMasking'``
            with their arguments (``mae_mm/models/mae/mask_generators.py``, docs/masking.md).
        with_mask_token (bool): The paper's "encoder w/ [M]" (Table 1c): a learned ``mask_token``
            (1, 1, D) replaces each masked patch token before the positions are added, and the
            blocks run on all 1 + L tokens; the decoder then takes that whole sequence (the
            pretraining model sets its ``takes_all_tokens``). Off (the paper's choice): the masked
            patches are dropped and there is no ``mask_token`` parameter.
        **kwargs: Other :class:`PlainViT` arguments (``with_checkpoint``, ``drop_path_rate``...).
    """

    def __init__(self, arch='base', pretrain_img_size=224, patch_size: Optional[int] = None,
                 mask_ratio: float = 0.75, mask_generator: Optional[dict] = None, with_mask_token: bool = False,
                 **kwargs):
        refuse_renamed(type(self).__name__, kwargs, dict(
            img_size='the stored position grid is set by pretrain_img_size, the pretraining input size',
            pos_embed_img_size='the position table is laid out for pretrain_img_size here'), others_allowed=True)
        size, _ = image_grid(pretrain_img_size, resolve_arch(arch, patch_size)['patch_size'], 'pretrain_img_size')
        kwargs.setdefault('pos_embed_trainable', False)
        super().__init__(arch=arch, pos_embed_img_size=size, patch_size=patch_size, **kwargs)
        self.pretrain_img_size = size
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'model.encoder.mask_ratio must lie in (0, 1), got {mask_ratio}')
        self.mask_ratio = mask_ratio
        self.num_visible = num_visible(self.num_patches, mask_ratio)  # K
        self.mask_generator = build_mask_generator(mask_generator, self.grid_size, mask_ratio)
        if not isinstance(with_mask_token, bool):
            raise TypeError(f'with_mask_token must be True or False, got {with_mask_token!r}')
        self.with_mask_token = with_mask_token
        if with_mask_token:
            self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dim))
            nn.init.normal_(self.mask_token, std=0.02)

    def masking_noise(self, batch_size: int, device, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """(B, L) masking noise of the configured generator on ``device`` (the patches with the largest
        noise are masked), drawn from ``generator`` (``None``: torch's default one). Training, evaluation's
        ``eval_noise`` and the reconstruction panels all draw their masks here."""
        return self.mask_generator(batch_size, device, generator)

    def forward(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encodes a random visible subset.

        Args:
            imgs: (B, C, H, W) at ``pretrain_img_size``.
            noise: Optional (B, L) masking noise (smallest kept); :meth:`masking_noise` if omitted.

        Returns:
            latent: (B, 1 + K, D), K = int(L * (1 - mask_ratio)), after the final norm: the cls
                token, then the visible patches in ascending-noise order. With ``with_mask_token``:
                (B, 1 + L, D), the cls token then every patch in patch (row-major) order.
            mask: (B, L), 1 = masked.
            ids_restore: (B, L), each patch's rank in ascending noise (the first K are visible).
        """
        if tuple(imgs.shape[-2:]) != self.pretrain_img_size:
            raise ValueError(f'MAE pretraining expects {self.pretrain_img_size} inputs (pretrain_img_size), '
                             f'got {tuple(imgs.shape[-2:])}')
        if noise is None:
            noise = self.masking_noise(imgs.shape[0], imgs.device)
        if self.with_mask_token:
            return self.encode_all_tokens(imgs, noise)
        x, _ = self.patch_tokens(imgs)
        x, mask, ids_restore = random_masking(x, self.mask_ratio, noise)
        x, _ = self.run_blocks(self.with_cls_token(x))  # no grid: the visible tokens are a random subset
        return self.norm(x), mask, ids_restore

    def encode_all_tokens(self, imgs: torch.Tensor, noise: torch.Tensor
                          ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``with_mask_token``'s path: (B, C, H, W), (B, L) noise -> latent (B, 1 + L, D) in patch order,
        mask (B, L), ids_restore (B, L). The mask token takes each masked patch's place, then every token gets
        its position, then the blocks run on the whole grid."""
        tokens = self.patch_embed(imgs)  # (B, L, D), no positions yet
        _, mask, ids_restore = random_masking(tokens, self.mask_ratio, noise)
        x = torch.where(mask.unsqueeze(-1).bool(), self.mask_token, tokens) + self.pos_embed[:, 1:]
        x, _ = self.run_blocks(self.with_cls_token(x), self.grid_size)
        return self.norm(x), mask, ids_restore
