"""transformers' ``config.json`` checked against what our ViT computes, and written for an export.

Sizes are compared as *facts* keyed by transformers' config names (``hidden_size``,
``num_hidden_layers``, ...), read from three places: a ``config.json``, the tensors of one of
our state dicts, and one of our model configs.
"""
import inspect
import re
from typing import Dict, List, Optional

from mae_mm.models.mae import MAEDecoder, MAEEncoder, MaskedPixelLoss, build_target
from mae_mm.models.mae.pixel_target import PatchPixels
from mae_mm.models.mae.target import DEFAULT_TARGET
from mae_mm.models.vit import VIT_ARCHS, resolve_arch
from .convert import StateDict

OUR_NORM_EPS = 1e-6  # every LayerNorm in mae_mm, as in the official MAE code
ENCODER_FACTS = ('hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'patch_size',
                 'num_channels', 'image_size')
DECODER_FACTS = ('decoder_hidden_size', 'decoder_num_hidden_layers', 'decoder_num_attention_heads',
                 'decoder_intermediate_size')


def _default(cls, name):
    return inspect.signature(cls.__init__).parameters[name].default


def _side(value, key: str, errors: List[str]):
    """An int, or a square (h, w) pair, as one int; anything else is an error."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or value[0] != value[1]:
            errors.append(f'{key}={value}: mae_mm converts a square {key} only')
            return None
        value = value[0]
    return value


def facts_from_state(state: StateDict) -> Dict[str, int]:
    """Sizes read off the tensors of one of our pretraining models, encoders or classifiers."""
    enc = 'backbone.' if any(k.startswith('backbone.') for k in state) else 'encoder.'
    kernel = state[enc + 'patch_embed.proj.weight']  # (D, C, p, p)
    facts = dict(hidden_size=kernel.shape[0], num_channels=kernel.shape[1], patch_size=kernel.shape[-1])
    grid = state[enc + 'pos_embed'].shape[1] - 1
    side = int(round(grid ** 0.5))
    if side * side == grid:
        facts['image_size'] = side * kernel.shape[-1]
    for prefix, depth, width in ((enc, 'num_hidden_layers', 'intermediate_size'),
                                 ('decoder.', 'decoder_num_hidden_layers', 'decoder_intermediate_size')):
        blocks = {int(m.group(1)) for m in (re.match(re.escape(prefix) + r'blocks\.(\d+)\.', k) for k in state) if m}
        if prefix == enc or 'decoder.embed.weight' in state:
            facts[depth] = len(blocks)
        if blocks:
            facts[width] = state[f'{prefix}blocks.0.mlp.fc1.weight'].shape[0]
    if 'decoder.embed.weight' in state:
        facts['decoder_hidden_size'] = state['decoder.embed.weight'].shape[0]
    if 'decoder.pred.weight' in state:  # p * p * C for a pixel target (not a transformers config key)
        facts['decoder_pred_dim'] = state['decoder.pred.weight'].shape[0]
    return facts


def facts_from_model_config(model: dict) -> Dict[str, object]:
    """Sizes (and ``mask_ratio``, ``norm_pix_loss``) of one of our model configs: a
    ``MaskedAutoencoder`` (``encoder``, ``decoder``, ``target``) or a model with a ViT ``backbone``."""
    vit = dict(model.get('encoder') or model.get('backbone') or {})
    if 'arch' not in vit:
        raise ValueError(f'the config\'s model has no encoder or backbone with an "arch" (model keys: {sorted(model)})')
    arch = resolve_arch(vit['arch'])
    patch = vit.get('patch_size') or arch['patch_size']
    facts = dict(hidden_size=arch['embed_dim'], num_hidden_layers=arch['depth'], num_attention_heads=arch['num_heads'],
                 intermediate_size=int(arch['embed_dim'] * arch['mlp_ratio']), patch_size=patch,
                 num_channels=vit.get('in_chans', 3))
    size = vit.get('pretrain_img_size', vit.get('img_size'))
    if size is not None:
        facts['image_size'] = size if isinstance(size, int) else size[0]
    if 'decoder' in model:
        dec = model['decoder']
        get = lambda key: dec.get(key, _default(MAEDecoder, key))  # noqa: E731
        facts.update(decoder_hidden_size=get('embed_dim'), decoder_num_hidden_layers=get('depth'),
                     decoder_num_attention_heads=get('num_heads'),
                     decoder_intermediate_size=int(get('embed_dim') * get('mlp_ratio')),
                     mask_ratio=vit.get('mask_ratio', _default(MAEEncoder, 'mask_ratio')),
                     norm_pix_loss=norm_pix_loss_of(model))
    return facts


def norm_pix_loss_of(model: dict) -> bool:
    """transformers' ``norm_pix_loss`` of a ``MaskedAutoencoder`` config's target (``target``, or
    its old name ``loss``); a target other than pixels is refused: transformers' ViTMAE predicts pixels."""
    cfg = model.get('target') or model.get('loss') or dict(type=DEFAULT_TARGET)
    target = build_target(cfg)
    if not isinstance(target, PatchPixels):
        raise ValueError(f'model.target={cfg.get("type")!r}: transformers\' ViTMAE decoder predicts pixels; '
                         'only a pixel target (NormalizedPixelTarget, PixelTarget, MaskedPixelLoss) converts '
                         'with its decoder')
    return target.norm_pix


def presumed_facts(facts: Dict[str, object]) -> Dict[str, object]:
    """What the weights cannot tell, presumed from the sizes they do: the heads of the ViT preset
    of the same width, depth and patch (``VIT_ARCHS``), the heads of :class:`MAEDecoder`'s default
    when the decoder has its width and depth, and the defaults of ``mask_ratio`` and ``norm_pix``."""
    presumed = {}
    for arch in VIT_ARCHS.values():
        if (arch['embed_dim'], arch['depth'], arch['patch_size']) == \
                (facts.get('hidden_size'), facts.get('num_hidden_layers'), facts.get('patch_size')):
            presumed['num_attention_heads'] = arch['num_heads']
    if 'decoder_hidden_size' in facts:
        if (facts['decoder_hidden_size'], facts.get('decoder_num_hidden_layers')) == \
                (_default(MAEDecoder, 'embed_dim'), _default(MAEDecoder, 'depth')):
            presumed['decoder_num_attention_heads'] = _default(MAEDecoder, 'num_heads')
        presumed.update(mask_ratio=_default(MAEEncoder, 'mask_ratio'),
                        norm_pix_loss=_default(MaskedPixelLoss, 'norm_pix'))
    return presumed


def merged_facts(state_facts: Dict[str, object], known: Dict[str, object], source: str) -> Dict[str, object]:
    """``state_facts`` completed by ``known`` (heads etc. from a config); a size both state and
    ``known`` give differently is an error naming it and ``source``."""
    clash = [f'{key}: weights {state_facts[key]}, {source} {known[key]}' for key in state_facts
             if key in known and key != 'image_size' and known[key] != state_facts[key]]
    if clash:
        raise ValueError(f'the weights do not fit {source}:\n  ' + '\n  '.join(clash))
    if 'decoder_hidden_size' not in state_facts:  # an encoder: a config's decoder is not in these weights
        known = {key: value for key, value in known.items() if key not in DECODER_FACTS}
    return {**known, **state_facts}


def check_hf_config(config: dict, name: str, state_facts: Dict[str, int],
                    expected: Optional[Dict[str, object]] = None) -> List[str]:
    """Refuses a ``config.json`` that describes another computation; returns warnings.

    Args:
        config: The parsed ``config.json``.
        name: Its path, for the messages.
        state_facts: :func:`facts_from_state` of the converted weights; the config must agree.
        expected: Optional :func:`facts_from_model_config` of the model the user asked for;
            its sizes must agree too (``image_size`` may differ: ``pos_embed`` is resampled).

    Raises:
        ValueError: naming every key of ``config`` that differs, and why.
    """
    errors, warnings = [], []
    if config.get('model_type', 'vit_mae') not in ('vit_mae', 'vit'):
        errors.append(f'model_type={config["model_type"]!r}: only vit_mae and vit checkpoints have our blocks')
    if config.get('hidden_act', 'gelu') != 'gelu':
        errors.append(f'hidden_act={config["hidden_act"]!r}: our MLPs use the exact (erf) GELU, "gelu"')
    if not config.get('qkv_bias', True):
        errors.append('qkv_bias=False: our blocks carry a q/k/v bias')
    got = {key: _side(config[key], key, errors) if key in ('patch_size', 'image_size') else config[key]
           for key in ENCODER_FACTS + DECODER_FACTS if key in config}
    for prefix in ('', 'decoder_'):
        width, heads = got.get(prefix + 'hidden_size'), got.get(prefix + 'num_attention_heads')
        if width and heads and width % heads:
            errors.append(f'{prefix}hidden_size={width} is not divisible by {prefix}num_attention_heads={heads}')
    if config.get('head_dim') and got.get('num_attention_heads') and \
            config['head_dim'] * got['num_attention_heads'] != got.get('hidden_size'):
        errors.append(f'head_dim={config["head_dim"]}: our heads are hidden_size / num_attention_heads wide')
    for key, value in state_facts.items():
        if key in got and got[key] is not None and got[key] != value:
            errors.append(f'{key}={got[key]}, but the weights have {value}')
    for key, value in (expected or {}).items():
        if key in got and key != 'image_size' and got[key] is not None and got[key] != value:
            errors.append(f'{key}={got[key]}, but the requested model has {value}')
    if errors:
        raise ValueError(f'{name} describes a model mae_mm does not compute:\n  ' + '\n  '.join(errors))
    eps = config.get('layer_norm_eps', OUR_NORM_EPS)
    if eps != OUR_NORM_EPS:
        warnings.append(
            f'{name}: layer_norm_eps={eps}, mae_mm\'s LayerNorms use {OUR_NORM_EPS} (the official MAE training value). '
            f'The weights load unchanged; each LayerNorm then divides by sqrt(var + {OUR_NORM_EPS}) instead of '
            f'sqrt(var + {eps}), so features differ from transformers\' by a relative ~{OUR_NORM_EPS / 2:g}/var '
            '(negligible unless a token\'s variance is tiny). HF\'s facebook/vit-mae-* conversions carry 1e-12 '
            'although those weights were trained with 1e-6.')
    for key in ('hidden_dropout_prob', 'attention_probs_dropout_prob'):
        if config.get(key):
            warnings.append(f'{name}: {key}={config[key]} is not built (mae_mm uses drop path only); '
                            'evaluation is unaffected, training regularises differently')
    return warnings


def hf_config_for(facts: Dict[str, object]) -> dict:
    """A transformers ``config.json`` for our weights: ``ViTMAEForPreTraining`` when ``facts``
    has decoder sizes, ``ViTMAEModel`` otherwise. Needs both heads counts (encoder, decoder)."""
    pretraining = 'decoder_hidden_size' in facts
    missing = [key for key in ENCODER_FACTS + (DECODER_FACTS if pretraining else ()) if facts.get(key) is None]
    if missing:
        raise ValueError(f'cannot tell {", ".join(missing)} from the weights; pass --config with the model\'s config')
    pixels = facts['patch_size'] ** 2 * facts['num_channels']
    if pretraining and facts.get('decoder_pred_dim', pixels) != pixels:
        raise ValueError(f'the decoder predicts {facts["decoder_pred_dim"]} values per patch, not the {pixels} pixels '
                         'transformers\' ViTMAE decoder predicts (a HOG or token target); the encoder alone (a state '
                         'without decoder.* weights) converts to ViTMAEModel')
    config = dict(architectures=['ViTMAEForPreTraining' if pretraining else 'ViTMAEModel'], model_type='vit_mae',
                  hidden_act='gelu', qkv_bias=True, layer_norm_eps=OUR_NORM_EPS, hidden_dropout_prob=0.0,
                  attention_probs_dropout_prob=0.0, initializer_range=0.02)
    config.update({key: facts[key] for key in ENCODER_FACTS})
    for key in DECODER_FACTS + ('mask_ratio', 'norm_pix_loss'):
        if key in facts:
            config[key] = facts[key]
    return config
