"""The one loop over a ViT's blocks (with activation checkpointing) and the one drop-path schedule."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint


def drop_path_rates(rate: float, depth: int) -> List[float]:
    """Stochastic-depth rate of each of ``depth`` blocks: rising linearly from 0 to ``rate``."""
    return [rate * i / max(depth - 1, 1) for i in range(depth)]


def run_blocks(blocks: Sequence[nn.Module], x: torch.Tensor, grid_hw: Optional[Tuple[int, int]] = None,
               checkpointed: bool = False, out_indices: Sequence[int] = ()) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """Runs ``x`` through every block in turn.

    Args:
        blocks: The blocks, each called as ``block(x, grid_hw)``.
        x: (B, N, D) tokens.
        grid_hw: The (h, w) patch grid of the tokens (for window attention and attention biases).
        checkpointed: Recompute each block's activations in backward instead of keeping them
            (only where ``x`` requires grad: nothing to save otherwise).
        out_indices: Blocks whose outputs are returned as well (0-based).

    Returns:
        The last block's output (B, N, D), and the outputs of the ``out_indices`` blocks in order.
    """
    outs = []
    for i, blk in enumerate(blocks):
        if checkpointed and x.requires_grad:
            x = checkpoint(blk, x, grid_hw, use_reentrant=False)
        else:
            x = blk(x, grid_hw)
        if i in out_indices:
            outs.append(x)
    return x, outs
