"""Pre-norm transformer block with fused scaled-dot-product attention.

Parameter names follow timm's ViT (``attn.qkv``, ``attn.proj``, ``mlp.fc1``, ``mlp.fc2``,
``norm1``, ``norm2``), so official MAE checkpoints map onto ours key for key.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath


class Attention(nn.Module):
    """Multi-head self-attention on ``F.scaled_dot_product_attention``.

    Args:
        dim (int): Token width.
        num_heads (int): Heads; ``dim`` must divide evenly.
        qkv_bias (bool): Bias on the fused q/k/v projection.

    ``fused_attn`` (class attribute, settable per instance) picks SDPA (flash / memory-efficient
    kernels where the device has them) or the explicit ``softmax(q k^T / sqrt(d)) v``, which
    the tests use as the reference.
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
               attn_bias: torch.Tensor = None) -> torch.Tensor:
        """softmax(q k^T / sqrt(d_head) + attn_bias) v: (B, heads, N, d_head) each -> (B, heads, N, d_head).

        ``attn_bias`` (B or 1, heads or 1, N, N) is added to the logits; ``fused_attn`` picks SDPA or
        the explicit product.
        """
        if self.fused_attn:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_bias)
        logits = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (B, heads, N, N)
        if attn_bias is not None:
            logits = logits + attn_bias
        return logits.softmax(dim=-1) @ v

    def project_out(self, x: torch.Tensor) -> torch.Tensor:
        """(B, heads, N, d_head) -> (B, N, D) through ``proj``."""
        b, _, n, _ = x.shape
        return self.proj(x.transpose(1, 2).reshape(b, n, -1))

    def forward(self, x: torch.Tensor, attn_bias: torch.Tensor = None) -> torch.Tensor:
        """(B, N, D) -> (B, N, D); ``attn_bias`` (B or 1, heads or 1, N, N) is added to the logits."""
        return self.project_out(self.attend(*self.project_qkv(x), attn_bias))


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
    """x + DropPath(Attn(LN(x))), then x + DropPath(MLP(LN(x))).

    Args:
        dim (int): Token width.
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden width over ``dim``.
        qkv_bias (bool): Bias on q/k/v.
        drop_path (float): Stochastic-depth rate of this block.
        norm_eps (float): LayerNorm epsilon (1e-6 as in the paper's code).
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path: float = 0.0, norm_eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, attn_bias: torch.Tensor = None) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        x = x + self.drop_path(self.attn(self.norm1(x), attn_bias))
        return x + self.drop_path(self.mlp(self.norm2(x)))


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
