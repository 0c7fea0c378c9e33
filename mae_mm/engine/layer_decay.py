"""Layer-wise lr decay for the project's ViT: one constructor for fine-tuning, COCO and ADE20K."""
import re
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from mae_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS

_BLOCK = re.compile(r'(?:^|\.)blocks\.(\d+)\.')
_NORMS = (nn.LayerNorm, nn.GroupNorm, _BatchNorm, _InstanceNorm)


def vit_layer_id(name: str, num_layers: int) -> int:
    """The layer of a parameter: patch embedding, cls token and position table 0; block k is
    k + 1; everything after the blocks (final norm, fc_norm, heads, necks) ``num_layers + 1``."""
    match = _BLOCK.search(name)
    if match:
        return int(match.group(1)) + 1
    leaf = name.rsplit('.', 1)[-1]
    if 'patch_embed' in name.split('.') or leaf in ('cls_token', 'pos_embed'):
        return 0
    return num_layers + 1


def infer_num_layers(names: Sequence[str]) -> int:
    """L, the number of ViT blocks, from ``...blocks.N...`` parameter names."""
    ids = [int(m.group(1)) for m in map(_BLOCK.search, names) if m]
    if not ids:
        raise ValueError('no "blocks.N" parameters found; set paramwise_cfg.num_layers')
    return max(ids) + 1


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ViTLayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Groups parameters by ViT layer and weight-decay status; lr = base lr x decay^(L + 1 - layer).

    ``paramwise_cfg`` keys:
        layer_decay_rate (float): The per-layer decay (0.65 for ViT-B fine-tuning).
        num_layers (int, optional): L; inferred from the ``blocks.N`` names of all parameters,
            frozen ones included, when omitted (so a partial fine-tune's scales are the full one's).
        no_decay (list[str]): What takes no weight decay: ``'1d'`` (every 1-D parameter:
            biases and norm weights), ``'norm'`` (parameters of normalisation layers only),
            ``'bias'``, or a parameter name (``'cls_token'``, ``'pos_embed'``) matched
            against the last component of each parameter's name.

    Frozen parameters (``requires_grad=False``) are left out. Every group records its
    ``layer_id`` and ``lr_scale``; its ``lr`` already carries the scale, so mmengine's
    schedulers, which scale each group from its own initial lr, move all groups alike.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        if 'layer_decay_rate' not in paramwise_cfg:
            raise KeyError('optim_wrapper.paramwise_cfg.layer_decay_rate is required by '
                           'ViTLayerDecayOptimWrapperConstructor')
        self.layer_decay_rate = float(paramwise_cfg.pop('layer_decay_rate'))
        self.num_layers = paramwise_cfg.pop('num_layers', None)
        self.no_decay = tuple(paramwise_cfg.pop('no_decay', ('1d',)))
        if paramwise_cfg:
            raise KeyError(f'unknown paramwise_cfg keys for layer decay: {sorted(paramwise_cfg)}')
        super().__init__(optim_wrapper_cfg, None)
        # non-empty, so mmengine's __call__ routes through add_params below
        self.paramwise_cfg = dict(layer_decay_rate=self.layer_decay_rate)

    def _takes_no_decay(self, name: str, param, module: nn.Module) -> bool:
        leaf = name.rsplit('.', 1)[-1]
        for rule in self.no_decay:
            if rule == '1d' and param.ndim == 1:
                return True
            if rule == 'norm' and isinstance(module, _NORMS):
                return True
            if rule == 'bias' and leaf == 'bias':
                return True
            if rule == leaf:
                return True
        return False

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '', **kwargs) -> None:
        every = list(module.named_parameters())
        named = [(n, p) for n, p in every if p.requires_grad]
        num_layers = self.num_layers or infer_num_layers([n for n, _ in every])
        owner = {id(p): m for m in module.modules() for p in m.parameters(recurse=False)}
        groups = {}
        for name, param in named:
            layer = vit_layer_id(name, num_layers)
            no_decay = self._takes_no_decay(name, param, owner[id(param)])
            key = (layer, no_decay)
            if key not in groups:
                scale = self.layer_decay_rate ** (num_layers + 1 - layer)
                groups[key] = dict(params=[], param_names=[], layer_id=layer, lr_scale=scale,
                                   lr=self.base_lr * scale,
                                   weight_decay=0.0 if no_decay else (self.base_wd or 0.0))
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        params.extend(groups[k] for k in sorted(groups))
        print_log(f'layer decay {self.layer_decay_rate} over {num_layers} blocks: {len(groups)} parameter '
                  f'groups, {sum(len(g["params"]) for g in groups.values())} parameters', 'current')
