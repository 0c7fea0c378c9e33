"""Pre-norm transformer block with fused scaled-dot-product attention, global or in windows.

Parameter names follow timm's ViT (``attn.qkv``, ``attn.proj``, ``mlp.fc1``, ``mlp.fc2``,
``norm1``, ``norm2``), so official MAE checkpoints map onto ours key for key.
"""
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath

from .window import window_partition, window_unpartition


class Attention(nn.Module):
    """Multi-head self-attention on ``F.scaled_dot_product_attention``.

    Args:
        dim (int): Token width.
        num_heads (int): Heads; ``dim`` must divide evenly.
        qkv_bias (bool): Bias on the fused q/k/v projection.

    ``fused_attn`` (class attribute, settable per instance) picks SDPA (flash / memory-efficient
    kernels where the device has them) or the explicit ``softmax(q k^T / sqrt(d)) v``, which
    the tests use as the reference.

    There is no ``forward``: :class:`Block` runs the three steps, :meth:`project_qkv`,
    :meth:`attend` and :meth:`project_out`, and computes its ``rel_pos_bias`` from q in between.
    """

    fused_attn = True

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'width {dim} is not divisible by {num_heads} heads')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def project_qkv(self, x: torch.Tensor):
        """(B, N, D) -> q, k, v, each (B, heads, N, D / heads)."""
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        return qkv.unbind(0)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               logit_bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        """softmax(q k^T / sqrt(d_head) + logit_bias) v: (B, heads, N, d_head) each -> (B, heads, N, d_head).

        ``logit_bias`` (B or 1, heads or 1, N, N), the value of the block's ``rel_pos_bias``, is added
        to the logits; ``fused_attn`` picks SDPA or the explicit product.
        """
        if self.fused_attn:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=logit_bias)
        logits = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (B, heads, N, N)
        if logit_bias is not None:
            logits = logits + logit_bias
        return logits.softmax(dim=-1) @ v

    def project_out(self, x: torch.Tensor) -> torch.Tensor:
        """(B, heads, N, d_head) -> (B, N, D) through ``proj``."""
        b, _, n, _ = x.shape
        return self.proj(x.transpose(1, 2).reshape(b, n, -1))


class Mlp(nn.Module):
    """Two linear layers with GELU between: D -> hidden -> D."""

    def __init__(self, dim: int, hidden_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """x + DropPath(Attn(LN(x))), then x + DropPath(MLP(LN(x))): the attention sub-block (``norm1``,
    ``attn``, ``drop_path1``) and the MLP sub-block (``norm2``, ``mlp``, ``drop_path2``).

    Args:
        dim (int): Token width.
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden width over ``dim``.
        qkv_bias (bool): Bias on q/k/v.
        drop_path (float): Stochastic-depth rate of this block.
        norm_eps (float): LayerNorm epsilon (1e-6 as in the paper's code).
        window_size (int): 0: attention over all tokens. k > 0: attention within non-overlapping
            k x k windows of the token grid, zero-padded to a multiple of k (ViTDet); the tokens
            must then be exactly the grid's, without a cls token.
        rel_pos_bias (callable, optional): Builds the block's relative position bias (an
            :class:`~mae_mm.models.vit.AttentionBias`) from its :class:`Attention`. The module is
            kept as ``rel_pos_bias`` and computes the logit bias for the grid of each call (a
            window's grid in a window block).
    """

    # the modules of each residual branch (``rel_pos_bias`` is None where there is no bias)
    SUB_BLOCKS = dict(attn=('norm1', 'attn', 'rel_pos_bias', 'drop_path1'), mlp=('norm2', 'mlp', 'drop_path2'))

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path: float = 0.0, norm_eps: float = 1e-6, window_size: int = 0,
                 rel_pos_bias: Optional[Callable[[Attention], nn.Module]] = None):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias)
        # one stochastic-depth module per residual branch (timm's names), so that a branch can be
        # put in eval mode alone (partial fine-tuning of the MLP sub-block); the same draws as one shared
        self.drop_path1 = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path2 = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.window_size = window_size
        self.rel_pos_bias = rel_pos_bias(self.attn) if rel_pos_bias is not None else None

    def forward(self, x: torch.Tensor, grid_hw: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """(B, N, D) -> (B, N, D); ``grid_hw`` (h, w) is the patch grid, needed by windows and the bias."""
        x = x + self.drop_path1(self.attention(self.norm1(x), grid_hw))
        return x + self.drop_path2(self.mlp(self.norm2(x)))

    def attention(self, x: torch.Tensor, grid_hw: Optional[Tuple[int, int]]) -> torch.Tensor:
        """(B, N, D) normalised tokens -> (B, N, D), over the whole grid or window by window."""
        if not self.window_size:
            return self.attend_grid(x, grid_hw)
        ws, (b, n, d) = self.window_size, x.shape
        if grid_hw is None or n != grid_hw[0] * grid_hw[1]:
            raise ValueError(f'window attention needs exactly the {grid_hw} grid\'s tokens, got {n}')
        windows, padded_hw = window_partition(x.view(b, grid_hw[0], grid_hw[1], d), ws)
        windows = self.attend_grid(windows.view(-1, ws * ws, d), (ws, ws))
        return window_unpartition(windows.view(-1, ws, ws, d), ws, padded_hw, grid_hw).view(b, n, d)

    def attend_grid(self, x: torch.Tensor, grid_hw: Optional[Tuple[int, int]]) -> torch.Tensor:
        """(B, N, D) -> (B, N, D): q, k, v, the relative position bias for the grid, attention, projection."""
        q, k, v = self.attn.project_qkv(x)  # (B, heads, N, d_head) each
        logit_bias = self.rel_pos_bias(q, grid_hw) if self.rel_pos_bias is not None else None
        return self.attn.project_out(self.attn.attend(q, k, v, logit_bias))


def init_mae_weights(module: nn.Module) -> None:
    """The paper's init: xavier-uniform linears with zero bias, unit LayerNorms."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
