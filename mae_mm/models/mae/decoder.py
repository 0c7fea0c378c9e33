"""The lightweight MAE decoder: mask tokens, fixed sin-cos positions, blocks, pixel head."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mae_mm.registry import MODELS
from ..vit import Block, init_mae_weights, refuse_renamed, run_blocks, sincos_2d_table


def take(x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """(B, N, E) tokens, (B, M) indices -> (B, M, E), the tokens at ``ids`` per sample (one gather)."""
    return x.gather(1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


@MODELS.register_module()
class MAEDecoder(BaseModule):
    """Predicts every patch's reconstruction target (pixels by default) from the encoder's tokens.

    Args:
        grid_size (tuple): (h, w), the encoder's patch grid (L = h * w patches, row-major); an
            int is a square grid. The sin-cos table is built for it.
        patch_size (int): p.
        in_dim (int): The encoder's width.
        embed_dim (int): The decoder's width (512 in the paper).
        depth (int): Decoder blocks (8).
        num_heads (int): Heads (16).
        mlp_ratio (float): MLP ratio (4).
        in_chans (int): Pixel channels to predict.
        pred_dim (int, optional): Width of the prediction per patch; default ``p * p * in_chans``
            (pixels). The pretraining model sets it to its target's ``out_dim``.
        with_checkpoint (bool): Activation checkpointing over the blocks while training
            (saves memory for L/H at the cost of recomputing each block's forward).
        takes_all_tokens (bool): The encoder ran on all 1 + L tokens with a mask token of its own
            (:class:`MAEEncoder`'s ``with_mask_token``): the input is that whole sequence in patch
            order, and the decoder has no ``mask_token`` and no unshuffle.
        decode_fraction (float): In (0, 1]. Below 1, the loss decodes the visible patches and only
            ``M = max(1, int(decode_fraction * (L - K)))`` of each sample's ``L - K`` masked ones,
            drawn at random (:meth:`decoded_ids`), and covers those M (VideoMAE V2's decoder
            masking). 1.0: every patch, the paper's computation. Only the training loss reads
            it: evaluation, ``predict`` and ``tensor`` modes and the reconstruction panels decode
            every patch.

    The pretraining model fills ``grid_size``, ``patch_size``, ``in_dim`` and ``takes_all_tokens``
    from its encoder, ``pred_dim`` from its target. State dict: ``mask_token`` (1, 1, E; not with ``takes_all_tokens``),
    ``pos_embed`` (1, 1 + L, E, frozen), ``embed.*``, ``blocks.N.*``, ``norm.*``, ``pred.*``.
    """

    def __init__(self, grid_size=None, patch_size: Optional[int] = None, in_dim: Optional[int] = None,
                 embed_dim: int = 512, depth: int = 8, num_heads: int = 16, mlp_ratio: float = 4.0,
                 in_chans: int = 3, pred_dim: Optional[int] = None, with_checkpoint: bool = False,
                 takes_all_tokens: bool = False,
                 decode_fraction: float = 1.0, init_cfg=None, **renamed):
        refuse_renamed(type(self).__name__, renamed, dict(
            num_patches='the decoder takes its grid as grid_size=(h, w) (the pretraining model fills it in '
                        'from the encoder)'))
        missing = [name for name, value in (('grid_size', grid_size), ('patch_size', patch_size), ('in_dim', in_dim))
                   if value is None]
        if missing:
            raise TypeError(f'{type(self).__name__} needs {missing} (the pretraining model fills them in from its '
                            'encoder: grid_size=(h, w), patch_size, in_dim = its width)')
        super().__init__(init_cfg=init_cfg)
        self.grid_size = (grid_size, grid_size) if isinstance(grid_size, int) else tuple(grid_size)
        if len(self.grid_size) != 2:
            raise ValueError(f'grid_size must be (h, w), got {grid_size}')
        if not 0.0 < decode_fraction <= 1.0:
            raise ValueError(f'decode_fraction must lie in (0, 1], got {decode_fraction}')
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.with_checkpoint = with_checkpoint
        self.takes_all_tokens = takes_all_tokens
        self.decode_fraction = decode_fraction
        self.embed = nn.Linear(in_dim, embed_dim)
        if not takes_all_tokens:
            self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(sincos_2d_table(embed_dim, self.grid_size)[None], requires_grad=False)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.pred = nn.Linear(embed_dim, pred_dim or patch_size * patch_size * in_chans)
        init_mae_weights(self)
        if not takes_all_tokens:
            nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor,
                decoded_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Predicts the pixels of every patch, or of the patches ``decoded_ids`` names.

        Args:
            latent: The encoder's tokens: (B, 1 + K, D_enc), the cls token then the K visible
                patches in ascending-noise order; with ``takes_all_tokens`` (B, 1 + L, D_enc) in
                patch order.
            ids_restore: (B, L), each patch's rank in ascending noise (rank < K: visible).
            decoded_ids: Optional (B, N) distinct patch indices, the only tokens (with the cls
                token) the blocks then run on; each visible one carries its encoded token, each
                masked one the mask token (without ``takes_all_tokens``, they must include every
                visible patch: :meth:`decoded_ids` gives such a set).

        Returns:
            (B, L, pred_dim) predictions; with ``decoded_ids``, the rows of the other patches are 0.
        """
        x = self.embed(latent)  # (B, 1 + K, E), or (B, 1 + L, E) with takes_all_tokens
        if decoded_ids is not None:
            return self.decode_some(x, ids_restore, decoded_ids)
        if self.takes_all_tokens:
            x = x + self.pos_embed
        else:
            b, length = ids_restore.shape
            masked = self.mask_token.expand(b, length - (x.shape[1] - 1), -1)
            patches = torch.cat([x[:, 1:], masked], dim=1)  # (B, L, E) shuffled order: visible first
            patches = patches.gather(1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[-1]))  # the one unshuffle
            x = torch.cat([x[:, :1], patches], dim=1) + self.pos_embed
        x, _ = run_blocks(self.blocks, x, checkpointed=self.with_checkpoint and self.training)
        return self.pred(self.norm(x[:, 1:]))  # the cls token needs no pixels

    def decode_some(self, x: torch.Tensor, ids_restore: torch.Tensor, decoded_ids: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` on the embedded tokens ``x`` (B, 1 + K or 1 + L, E) for the (B, N) patches
        ``decoded_ids`` only -> (B, L, pred_dim), zero rows elsewhere."""
        b, length = ids_restore.shape
        if self.takes_all_tokens:
            tokens = take(x[:, 1:], decoded_ids)
        else:  # a visible patch's rank is its place among the K encoded tokens; rank K picks the mask token
            visible = x.shape[1] - 1
            table = torch.cat([x[:, 1:], self.mask_token.expand(b, 1, -1)], dim=1)  # (B, K + 1, E)
            tokens = take(table, ids_restore.gather(1, decoded_ids).clamp(max=visible))
        pos = take(self.pos_embed[:, 1:].expand(b, -1, -1), decoded_ids)
        x = torch.cat([x[:, :1] + self.pos_embed[:, :1], tokens + pos], dim=1)  # (B, 1 + N, E)
        x, _ = run_blocks(self.blocks, x, checkpointed=self.with_checkpoint and self.training)
        out = self.pred(self.norm(x[:, 1:]))  # (B, N, P)
        return out.new_zeros(b, length, out.shape[-1]).scatter(
            1, decoded_ids.unsqueeze(-1).expand(-1, -1, out.shape[-1]), out)

    def num_decoded(self, num_masked: int) -> int:
        """M, the masked patches decoded per sample out of ``num_masked``: ``max(1, int(decode_fraction
        * num_masked))`` (``num_masked`` itself at 1.0)."""
        return max(1, int(self.decode_fraction * num_masked))

    def decoded_ids(self, ids_restore: torch.Tensor, num_visible: int) -> torch.Tensor:
        """The patches the partial decoder runs on: (B, L) ranks, K -> (B, K + M) patch indices, the K
        visible ones in rank order, then :meth:`num_decoded` ``(L - K)`` masked ones drawn uniformly
        without replacement per sample, from ``torch.rand`` on the default generator of the tokens'
        device (which :class:`~mae_mm.engine.RandomStateHook` saves, so a resumed run draws the same)."""
        b, length = ids_restore.shape
        positions = torch.arange(length, device=ids_restore.device).expand(b, length)
        ids_shuffle = torch.empty_like(ids_restore).scatter_(1, ids_restore, positions)  # rank -> patch
        num_masked = length - num_visible
        picked = torch.rand(b, num_masked, device=ids_restore.device).argsort(dim=1)[:, :self.num_decoded(num_masked)]
        return torch.cat([ids_shuffle[:, :num_visible], ids_shuffle[:, num_visible:].gather(1, picked)], dim=1)
