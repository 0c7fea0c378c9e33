"""Key maps between this project's checkpoints and the official MAE, mmpretrain and timm ones
(Hugging Face: :mod:`mae_mm.checkpoint.convert_hf`).

Ours: a pretraining model holds ``encoder.*`` (timm's ViT names) and ``decoder.{mask_token,
pos_embed,embed,blocks.N,norm,pred}``; a classifier holds ``backbone.*`` (with ``fc_norm``) and
``head.fc.*`` (mmpretrain's LinearClsHead).
"""
import re
from typing import Callable, Dict, List, Optional, Tuple

import torch

StateDict = Dict[str, torch.Tensor]

# official MAE decoder names -> ours, inside a pretraining model
_OFFICIAL_DECODER = (('mask_token', 'decoder.mask_token'), ('decoder_pos_embed', 'decoder.pos_embed'),
                     ('decoder_embed.', 'decoder.embed.'), ('decoder_blocks.', 'decoder.blocks.'),
                     ('decoder_norm.', 'decoder.norm.'), ('decoder_pred.', 'decoder.pred.'))
_TIMM_ENCODER = re.compile(r'^(cls_token|pos_embed|patch_embed\.|blocks\.|norm\.|fc_norm\.)')
# mmpretrain's transformer-layer names -> timm's, inside one block
_MMPRETRAIN_BLOCK = (('.ln1.', '.norm1.'), ('.ln2.', '.norm2.'), ('.ffn.layers.0.0.', '.mlp.fc1.'),
                     ('.ffn.layers.1.', '.mlp.fc2.'))


class ConversionReport:
    """What a conversion mapped, dropped on purpose, and could not place."""

    def __init__(self):
        self.mapped: List[Tuple[str, str]] = []
        self.dropped: List[str] = []
        self.unplaced: List[str] = []

    def summary(self) -> str:
        lines = [f'mapped {len(self.mapped)} tensors']
        lines += [f'  {src} -> {dst}' for src, dst in self.mapped]
        lines.append(f'dropped {len(self.dropped)}: {", ".join(self.dropped) or "-"}')
        lines.append(f'could not place {len(self.unplaced)}: {", ".join(self.unplaced) or "-"}')
        return '\n'.join(lines)


def convert_keys(state: StateDict, rename: Callable[[str], Optional[str]], drop: Callable[[str], bool]
                 ) -> Tuple[StateDict, ConversionReport]:
    """``state`` renamed key by key; ``drop`` ones are left out on purpose, a ``None`` name is unplaced."""
    out, report = {}, ConversionReport()
    for key, value in state.items():
        if drop(key):
            report.dropped.append(key)
            continue
        new = rename(key)
        if new is None:
            report.unplaced.append(key)
            continue
        out[new] = value
        report.mapped.append((key, new))
    return out, report


def replace_prefix(key: str, table) -> Optional[str]:
    """``new + rest`` for the first ``(old, new)`` of ``table`` that is ``key`` or (ending in ``.``) its prefix."""
    for old, new in table:
        if key == old or (old.endswith('.') and key.startswith(old)):
            return new + key[len(old):]
    return None


def from_official(state: StateDict) -> Tuple[StateDict, ConversionReport]:
    """Official MAE weights (the dict under ``model``) -> ours.

    An encoder or a "visualize" checkpoint (encoder + decoder) becomes a pretraining model
    (``encoder.*``, ``decoder.*``); a fine-tuned classifier (with ``head.*``) becomes a
    classifier (``backbone.*``, ``head.fc.*``).
    """
    classifier = 'head.weight' in state
    prefix = 'backbone.' if classifier else 'encoder.'

    def rename(key):
        if _TIMM_ENCODER.match(key):
            return prefix + key
        if classifier and key.startswith('head.'):
            return 'head.fc.' + key[len('head.'):]
        return None if classifier else replace_prefix(key, _OFFICIAL_DECODER)

    return convert_keys(state, rename, drop=lambda key: False)


def from_mmpretrain(state: StateDict) -> Tuple[StateDict, ConversionReport]:
    """mmpretrain ``MAE`` (``backbone`` = MAEViT, ``neck`` = MAEPretrainDecoder) -> ours."""

    def block(key):
        for old, new in _MMPRETRAIN_BLOCK:
            key = key.replace(old, new)
        return key

    def rename(key):
        if key.startswith('backbone.'):
            rest = key[len('backbone.'):]
            if rest in ('cls_token', 'pos_embed'):
                return 'encoder.' + rest
            if rest.startswith('patch_embed.projection.'):
                return 'encoder.patch_embed.proj.' + rest[len('patch_embed.projection.'):]
            if rest.startswith('layers.'):
                return 'encoder.' + block('blocks.' + rest[len('layers.'):])
            if rest.startswith('ln1.'):
                return 'encoder.norm.' + rest[len('ln1.'):]
            return None
        if key.startswith('neck.'):
            rest = key[len('neck.'):]
            if rest.startswith('decoder_blocks.'):
                return 'decoder.' + block('blocks.' + rest[len('decoder_blocks.'):])
            if rest.startswith('ln1.'):
                return 'decoder.norm.' + rest[len('ln1.'):]
            return replace_prefix(rest, _OFFICIAL_DECODER)
        return None

    return convert_keys(state, rename, drop=lambda key: key.startswith('data_preprocessor.'))


def to_timm(state: StateDict) -> Tuple[StateDict, ConversionReport]:
    """Our pretraining or classifier weights -> a timm ``VisionTransformer`` state dict
    (the encoder; a classifier's ``fc_norm`` and ``head`` too). The decoder is dropped."""

    def rename(key):
        for prefix in ('encoder.', 'backbone.'):
            if key.startswith(prefix):
                return key[len(prefix):]
        if key.startswith('head.fc.'):
            return 'head.' + key[len('head.fc.'):]
        return None

    return convert_keys(state, rename, drop=lambda key: key.startswith(('decoder.', 'data_preprocessor.')))


CONVERTERS = {'official': from_official, 'mmpretrain': from_mmpretrain}
