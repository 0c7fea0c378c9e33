"""The lightweight MAE decoder: mask tokens, fixed sin-cos positions, blocks, pixel head."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mae_mm.registry import MODELS
from ..vit import Block, init_mae_weights, run_blocks, sincos_2d_table


@MODELS.register_module()
class MAEDecoder(BaseModule):
    """Predicts every patch's reconstruction target (pixels by default) from the encoder's visible tokens.

    Args:
        num_patches (int): L, the encoder's patch count (a square grid).
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

    The pretraining model fills ``num_patches``, ``patch_size`` and ``in_dim`` from its encoder,
    ``pred_dim`` from its target.
    State dict: ``mask_token`` (1, 1, E), ``pos_embed`` (1, 1 + L, E, frozen), ``embed.*``,
    ``blocks.N.*``, ``norm.*``, ``pred.*``.
    """

    def __init__(self, num_patches: int, patch_size: int, in_dim: int, embed_dim: int = 512,
                 depth: int = 8, num_heads: int = 16, mlp_ratio: float = 4.0, in_chans: int = 3,
                 pred_dim: Optional[int] = None, with_checkpoint: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        side = int(round(num_patches ** 0.5))
        if side * side != num_patches:
            raise ValueError(f'the decoder needs a square patch grid, got {num_patches} patches')
        self.num_patches = num_patches
        self.with_checkpoint = with_checkpoint
        self.embed = nn.Linear(in_dim, embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(sincos_2d_table(embed_dim, (side, side))[None], requires_grad=False)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.pred = nn.Linear(embed_dim, pred_dim or patch_size * patch_size * in_chans)
        init_mae_weights(self)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """(B, 1 + K, D_enc) visible tokens, (B, L) restore indices -> (B, L, pred_dim) predictions."""
        x = self.embed(latent)  # (B, 1 + K, E)
        b, length = ids_restore.shape
        masked = self.mask_token.expand(b, length - (x.shape[1] - 1), -1)
        patches = torch.cat([x[:, 1:], masked], dim=1)  # (B, L, E) shuffled order: visible first
        patches = patches.gather(1, ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[-1]))  # the one unshuffle
        x = torch.cat([x[:, :1], patches], dim=1) + self.pos_embed
        x, _ = run_blocks(self.blocks, x, checkpointed=self.with_checkpoint and self.training)
        return self.pred(self.norm(x[:, 1:]))  # the cls token needs no pixels
