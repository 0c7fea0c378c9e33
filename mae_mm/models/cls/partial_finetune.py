"""Partial fine-tuning (the MAE paper's Fig. 9): which parts of the classifier's ViT stay frozen.

Fine-tuning the last k blocks trains blocks ``depth - k`` to ``depth - 1``, the norm after the
blocks (``fc_norm``, or ``norm`` for a cls-token output) and the head; the patch embedding, the cls
token, the position table and the first ``depth - k`` blocks are frozen. The paper's "MLP of the
last block only" variant (79.1 with ViT-L) trains only the MLP sub-block (``norm2``, ``mlp``) of
the trainable blocks: ``block_parts='mlp'`` with k = 1. k = 0 trains the norm and the head only;
the paper's 0-block point is the linear probe (``frozen=True``, its own recipe).
"""
from typing import List, Optional

import torch.nn as nn

from ..vit import Block

BLOCK_PARTS = ('all', 'mlp')


def checked_partial_finetune(depth: int, trainable_blocks: Optional[int], block_parts: str, frozen: bool) -> None:
    """Raises ``ValueError`` naming the key and its allowed values for a partial fine-tune that cannot be.

    Args:
        depth: The ViT's number of blocks.
        trainable_blocks: k, or None (no partial fine-tuning).
        block_parts: ``trainable_block_parts``: ``'all'`` or ``'mlp'``.
        frozen: The backbone's ``frozen`` (everything frozen: the linear probe).
    """
    if block_parts not in BLOCK_PARTS:
        raise ValueError(f'trainable_block_parts must be one of {BLOCK_PARTS}, got {block_parts!r}')
    if trainable_blocks is None:
        if block_parts != 'all':
            raise ValueError(f"trainable_block_parts={block_parts!r} needs trainable_blocks (in [1, {depth}])")
        return
    if frozen:
        raise ValueError('frozen=True freezes every block; trainable_blocks is for a partial fine-tune (frozen=False)')
    if isinstance(trainable_blocks, bool) or not isinstance(trainable_blocks, int) \
            or not 0 <= trainable_blocks <= depth:
        raise ValueError(f'trainable_blocks must be an integer in [0, {depth}] (the depth of this ViT), '
                         f'got {trainable_blocks!r}')
    if block_parts != 'all' and trainable_blocks == 0:
        raise ValueError(f"trainable_block_parts={block_parts!r} needs trainable_blocks in [1, {depth}], got 0")


def frozen_module_names(vit: nn.Module, trainable_blocks: int, block_parts: str = 'all') -> List[str]:
    """The sub-modules of a :class:`~mae_mm.models.vit.PlainViT` that a partial fine-tune freezes and
    keeps in eval mode: the patch embedding, the first ``depth - trainable_blocks`` blocks and, with
    ``block_parts='mlp'``, the attention sub-block of each trainable block (its drop path included;
    its ``rel_pos_bias`` where it has one)."""
    depth = len(vit.blocks)
    names = ['patch_embed'] + [f'blocks.{i}' for i in range(depth - trainable_blocks)]
    if block_parts == 'mlp':
        names += [f'blocks.{i}.{part}' for i in range(depth - trainable_blocks, depth)
                  for part in Block.SUB_BLOCKS['attn'] if getattr(vit.blocks[i], part) is not None]
    return names
