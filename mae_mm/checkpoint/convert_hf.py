"""Key maps between Hugging Face transformers' ViT-MAE / ViT checkpoints and ours.

transformers names the same tensors two ways, and both circulate:

- 4.x (and what 5.x's ``save_pretrained`` still writes): ``vit.encoder.layer.N.attention.attention.
  {query,key,value}``, ``...attention.output.dense``, ``...intermediate.dense``, ``...output.dense``;
- 5.x in memory (``model.state_dict()``): ``vit.layers.N.attention.{q,k,v,o}_proj``, ``...mlp.fc1/fc2``.

Both share ``layernorm_before/after``, ``vit.embeddings.{cls_token,position_embeddings,
patch_embeddings.projection}``, ``vit.layernorm`` and the decoder's ``decoder.{decoder_embed,
mask_token,decoder_pos_embed,decoder_layers.N,decoder_norm,decoder_pred}``. ``ViTMAEModel`` and
``ViTModel`` drop the ``vit.`` prefix; ``ViTForImageClassification`` adds ``classifier``.
transformers splits q, k and v into three linears where ours is one fused ``attn.qkv``
(rows q, then k, then v).
"""
import re
from typing import Tuple

import torch

from .convert import ConversionReport, StateDict, convert_keys, replace_prefix

# inside one transformer layer: HF suffix (either layout) -> ours
_LAYER = (('attention.o_proj.', 'attn.proj.'), ('attention.output.dense.', 'attn.proj.'),
          ('mlp.fc1.', 'mlp.fc1.'), ('intermediate.dense.', 'mlp.fc1.'),
          ('mlp.fc2.', 'mlp.fc2.'), ('output.dense.', 'mlp.fc2.'),
          ('layernorm_before.', 'norm1.'), ('layernorm_after.', 'norm2.'))
_QKV = {'q_proj': 'q', 'k_proj': 'k', 'v_proj': 'v', 'query': 'q', 'key': 'k', 'value': 'v'}
_QKV_KEY = re.compile(r'^attention\.(?:attention\.)?(q_proj|k_proj|v_proj|query|key|value)\.(weight|bias)$')
_ENCODER_LAYER = re.compile(r'^(?:vit\.)?(?:encoder\.layer|layers)\.(\d+)\.(.+)$')
# transformers 5.x's save_pretrained writes the decoder layers as decoder.decoder_encoder.layer.N (its
# reverse renaming layers. -> encoder.layer. also hits decoder_layers.); its from_pretrained reads them.
_DECODER_LAYER = re.compile(r'^decoder\.decoder_(?:layers|encoder\.layer)\.(\d+)\.(.+)$')
# outside the layers: HF name without the optional ``vit.`` prefix -> ours, after the encoder prefix
_EMBEDDINGS = (('embeddings.cls_token', 'cls_token'), ('embeddings.position_embeddings', 'pos_embed'),
               ('embeddings.patch_embeddings.projection.', 'patch_embed.proj.'), ('layernorm.', 'norm.'))
_DECODER = (('decoder.decoder_embed.', 'decoder.embed.'), ('decoder.mask_token', 'decoder.mask_token'),
            ('decoder.decoder_pos_embed', 'decoder.pos_embed'), ('decoder.decoder_norm.', 'decoder.norm.'),
            ('decoder.decoder_pred.', 'decoder.pred.'))
# HF tensors with no counterpart in ours: ViTModel's pooler, ViT's masked-image-modelling token
_DROPPED = re.compile(r'^(?:vit\.)?(?:pooler\.|embeddings\.mask_token$)')

# the decoder tensors a pretraining model cannot do without, as transformers names them
HF_DECODER_KEYS = ('decoder.decoder_embed.weight', 'decoder.mask_token', 'decoder.decoder_pos_embed',
                   'decoder.decoder_norm.weight', 'decoder.decoder_pred.weight')


def hf_kind(state: StateDict) -> str:
    """``'pretraining'`` (ViTMAEForPreTraining: encoder + decoder), ``'classifier'``
    (ViTForImageClassification) or ``'encoder'`` (ViTMAEModel, ViTModel), from the keys."""
    if any(key.startswith('decoder.') for key in state):
        return 'pretraining'
    if any(key.startswith('classifier.') for key in state):
        return 'classifier'
    return 'encoder'


def missing_for(kind: str, state: StateDict) -> list:
    """The HF keys that a ``kind`` model needs and ``state`` lacks."""
    if kind == 'pretraining':
        return [key for key in HF_DECODER_KEYS if key not in state]
    if kind == 'classifier':
        return [key for key in ('classifier.weight',) if key not in state]
    return []


def from_hf(state: StateDict) -> Tuple[StateDict, ConversionReport]:
    """A transformers ViT-MAE / ViT state dict (either layout) -> ours.

    ``ViTMAEForPreTraining`` becomes a pretraining model (``encoder.*``, ``decoder.*``),
    ``ViTMAEModel`` / ``ViTModel`` an encoder (``encoder.*``), ``ViTForImageClassification``
    a classifier with a cls-token backbone (``backbone.*`` with ``norm``, ``head.fc.*``).
    The report names each q, k, v as its rows of our ``attn.qkv`` (``...attn.qkv.weight#q``).

    Raises:
        ValueError: a layer lacks one of q, k, v (naming it), or has no q/k/v biases
            (``qkv_bias=False``, which our decoder does not build).
    """
    encoder = 'backbone.' if hf_kind(state) == 'classifier' else 'encoder.'

    def rename(key):
        layer = _ENCODER_LAYER.match(key) or _DECODER_LAYER.match(key)
        if layer:
            ours = (f'{encoder}blocks.' if layer.re is _ENCODER_LAYER else 'decoder.blocks.') + layer.group(1) + '.'
            part = _QKV_KEY.match(layer.group(2))
            if part:
                return f'{ours}attn.qkv.{part.group(2)}#{_QKV[part.group(1)]}'
            inner = replace_prefix(layer.group(2), _LAYER)
            return ours + inner if inner else None
        if key.startswith('classifier.'):
            return 'head.fc.' + key[len('classifier.'):]
        inner = replace_prefix(key[len('vit.'):] if key.startswith('vit.') else key, _EMBEDDINGS)
        return encoder + inner if inner else replace_prefix(key, _DECODER)

    out, report = convert_keys(state, rename, drop=lambda key: bool(_DROPPED.match(key)))
    _fuse_qkv(out)
    return out, report


def _fuse_qkv(out: StateDict) -> None:
    """Replaces each layer's ``attn.qkv.{weight,bias}#{q,k,v}`` by their rows' concatenation, in place."""
    parts = sorted(key for key in out if '#' in key)
    for name in sorted({key.split('#')[0] for key in parts}):
        found = [f'{name}#{p}' for p in 'qkv' if f'{name}#{p}' in out]
        if len(found) != 3:
            raise ValueError(f'{name} needs q, k and v, the checkpoint has only {found}')
        out[name] = torch.cat([out.pop(key) for key in found], dim=0)
    weights = {key[:-len('weight')] for key in out if key.endswith('attn.qkv.weight')}
    biases = {key[:-len('bias')] for key in out if key.endswith('attn.qkv.bias')}
    if weights - biases:
        raise ValueError(f'{sorted(weights - biases)[0]}weight has no q/k/v biases (qkv_bias=False); '
                         'mae_mm\'s ViT blocks carry a q/k/v bias, so this checkpoint computes something else')


def to_hf(state: StateDict) -> Tuple[StateDict, ConversionReport]:
    """Our pretraining model or encoder -> transformers' 4.x key layout, which
    ``save_pretrained`` still writes and both 4.x and 5.x ``from_pretrained`` read.

    ``encoder.*`` + ``decoder.*`` become ``ViTMAEForPreTraining`` (``vit.*``, ``decoder.*``);
    ``encoder.*`` alone becomes ``ViTMAEModel`` (no prefix). Each ``attn.qkv`` is split into
    q, k, v by rows (reported as ``...attn.qkv.weight#q`` etc.).
    """
    if any(key.startswith(('backbone.', 'head.')) for key in state):
        raise ValueError('this is a classifier checkpoint (backbone.*, head.*); --to hf exports a pretraining '
                         'model (encoder.* + decoder.*) or an encoder (encoder.*)')
    vit = 'vit.' if any(key.startswith('decoder.') for key in state) else ''
    layer_names = (('attn.proj.', 'attention.output.dense.'), ('mlp.fc1.', 'intermediate.dense.'),
                   ('mlp.fc2.', 'output.dense.'), ('norm1.', 'layernorm_before.'), ('norm2.', 'layernorm_after.'))
    embeddings = [(ours, hf) for hf, ours in _EMBEDDINGS]
    decoder = [(ours, hf) for hf, ours in _DECODER]
    split = {}
    for key, value in state.items():
        if '.attn.qkv.' in key:
            split.update({f'{key}#{p}': chunk for p, chunk in zip('qkv', value.chunk(3, dim=0))})
        else:
            split[key] = value

    def rename(key):
        block = re.match(r'^(encoder|decoder)\.blocks\.(\d+)\.(.+)$', key)
        if block:
            where, index, inner = block.groups()
            prefix = f'{vit}encoder.layer.{index}.' if where == 'encoder' else f'decoder.decoder_layers.{index}.'
            qkv = re.match(r'^attn\.qkv\.(weight|bias)#([qkv])$', inner)
            if qkv:
                part = {'q': 'query', 'k': 'key', 'v': 'value'}[qkv.group(2)]
                return f'{prefix}attention.attention.{part}.{qkv.group(1)}'
            hf = replace_prefix(inner, layer_names)
            return prefix + hf if hf else None
        if key.startswith('encoder.'):
            hf = replace_prefix(key[len('encoder.'):], embeddings)
            return vit + hf if hf else None
        return replace_prefix(key, decoder)

    return convert_keys(split, rename, drop=lambda key: key.startswith('data_preprocessor.'))
