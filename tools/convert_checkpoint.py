"""Converts MAE checkpoints into this project's keys, or exports ours for timm and transformers.

    python tools/convert_checkpoint.py SRC DST --from official|mmpretrain|hf [--model KIND] [--config CFG]
    python tools/convert_checkpoint.py SRC DST --to timm
    python tools/convert_checkpoint.py SRC DST_DIR --to hf [--config CFG]

- ``official``: the MAE release's ``mae_pretrain_vit_*.pth`` (encoder), ``mae_visualize_vit_*.pth``
  (encoder + decoder) and ``mae_finetuned_vit_*.pth`` (classifier), weights under ``model``.
- ``mmpretrain``: an mmpretrain ``MAE`` checkpoint (weights under ``state_dict``).
- ``hf``: a transformers ``save_pretrained`` directory, or one ``model.safetensors`` /
  ``pytorch_model.bin``: ``ViTMAEForPreTraining`` (-> pretraining model), ``ViTMAEModel`` /
  ``ViTModel`` (-> encoder), ``ViTForImageClassification`` (-> cls-token classifier), in the key
  layout of transformers 4.x or 5.x. Its ``config.json`` (when present) is checked against what
  our ViT computes: another architecture is refused naming the keys, another ``layer_norm_eps``
  warns. ``--model pretraining|encoder|classifier`` states what the output must be (a missing
  part is refused; ``encoder`` keeps only the encoder of a pretraining model); ``--config`` (one
  of our configs) makes the sizes match that model's too.
- ``--to timm``: our pretraining or classifier checkpoint -> a timm ``VisionTransformer`` state dict.
- ``--to hf``: our pretraining model (or encoder) -> a directory that transformers'
  ``ViTMAEForPreTraining`` (``ViTMAEModel``) ``from_pretrained`` loads, with its ``config.json``.
  The heads, ``mask_ratio`` and ``norm_pix_loss`` come from ``--config``, else from the
  checkpoint's meta (an HF conversion's config, or the training config mmengine stores), else
  from the ViT preset and decoder default of the same sizes.

A ``DST`` ending in ``.safetensors`` is written as safetensors, anything else as a torch file.
SRC files are read as safetensors or with ``torch.load(weights_only=True)``; the official files
also pickle their training ``argparse.Namespace``, which is allowed for them. ``--trust-source``
turns the safety off for a ``.pth`` you trust that holds anything else. Our outputs are a plain
``{'state_dict': ..., 'meta': ...}``: a ``.pth`` one is what ``load_from`` and ``init_cfg`` read; a
``.safetensors`` one keeps ``meta`` as JSON in its header, and mmengine does not read it (train from
a ``.pth``).
"""
import argparse
import os.path as osp
import sys

import torch

from mae_mm.checkpoint.convert import CONVERTERS, to_timm
from mae_mm.checkpoint.convert_hf import from_hf, hf_kind, missing_for, to_hf
from mae_mm.checkpoint.file_io import CheckpointReadError, read_checkpoint, write_checkpoint
from mae_mm.checkpoint.hf_config import (DECODER_FACTS, ENCODER_FACTS, check_hf_config, facts_from_model_config,
                                         facts_from_state, hf_config_for, merged_facts, presumed_facts)
from mae_mm.checkpoint.hf_files import read_hf, write_hf

KINDS = ('pretraining', 'encoder', 'classifier')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src')
    parser.add_argument('dst')
    direction = parser.add_mutually_exclusive_group(required=True)
    direction.add_argument('--from', dest='source', choices=sorted(CONVERTERS) + ['hf'])
    direction.add_argument('--to', dest='target', choices=['hf', 'timm'])
    parser.add_argument('--model', choices=KINDS, help='with --from hf: what the output must be')
    parser.add_argument('--config', help='one of our model configs: sizes to check (--from hf) or to export (--to hf)')
    parser.add_argument('--trust-source', action='store_true',
                        help='load SRC with weights_only=False (only for a file you trust)')
    return parser.parse_args()


def weights_of(ckpt: dict, path: str) -> dict:
    for key in ('model', 'state_dict'):
        if isinstance(ckpt.get(key), dict):
            return ckpt[key]
    if ckpt and all(torch.is_tensor(v) for v in ckpt.values()):
        return ckpt
    raise CheckpointReadError(f'{path} holds no weights under "model" or "state_dict" (keys: {sorted(ckpt)[:10]})')


def model_facts(config_path: str) -> dict:
    from mmengine.config import Config
    return facts_from_model_config(Config.fromfile(config_path).model)


def from_hf_files(args):
    """Reads, checks and converts a transformers checkpoint; returns (state, report, meta)."""
    state, config, config_path = read_hf(args.src)
    expected = model_facts(args.config) if args.config else None
    kind = hf_kind(state)
    wanted = args.model or ('pretraining' if expected and 'decoder_hidden_size' in expected else None)
    missing = missing_for(wanted, state) if wanted else []
    if missing:
        raise ValueError(f'{args.src} holds a transformers {kind} model (no {", ".join(missing)}); '
                         f'a {wanted} model needs them. An encoder-only checkpoint (ViTModel, ViTMAEModel) '
                         'converts with --model encoder.')
    converted, report = from_hf(state)
    if wanted == 'encoder':  # the ViT alone, under the prefix a pretraining checkpoint has
        for key in [k for k in converted if k.startswith(('decoder.', 'head.'))]:
            del converted[key]
            report.dropped.append(key)
        converted = {('encoder.' + k[len('backbone.'):] if k.startswith('backbone.') else k): v
                     for k, v in converted.items()}
    if config is None:
        print(f'warning: no config.json beside {args.src}; the heads and activation cannot be checked', file=sys.stderr)
    else:
        for warning in check_hf_config(config, config_path, facts_from_state(converted), expected):
            print(f'warning: {warning}', file=sys.stderr)
    return converted, report, dict(converted_from='hf', source=osp.abspath(args.src), hf_config=config)


def export_facts(state: dict, meta: dict, config_path: str) -> dict:
    """The sizes and settings of an export: the weights' own, completed from the config given,
    the checkpoint's meta, or presumed from the sizes."""
    facts = facts_from_state(state)
    if config_path:
        return merged_facts(facts, model_facts(config_path), config_path)
    if meta.get('hf_config'):
        keys = ENCODER_FACTS + DECODER_FACTS + ('mask_ratio', 'norm_pix_loss')
        return merged_facts(facts, {k: v for k, v in meta['hf_config'].items() if k in keys},
                            'the hf_config in the checkpoint meta')
    if isinstance(meta.get('cfg'), str):  # mmengine stores the training config's text
        from mmengine.config import Config
        return merged_facts(facts, facts_from_model_config(Config.fromstring(meta['cfg'], '.py').model),
                            'the config in the checkpoint meta')
    presumed = presumed_facts(facts)
    print(f'note: no --config; presumed {presumed}', file=sys.stderr)
    return merged_facts(facts, presumed, 'the presumed defaults')


def main():
    args = parse_args()
    try:
        if args.source == 'hf':
            converted, report, meta = from_hf_files(args)
        else:
            ckpt = read_checkpoint(args.src, args.trust_source)
            state = weights_of(ckpt, args.src)
            if args.target == 'hf':
                converted, report = to_hf(state)
                config = hf_config_for(export_facts(state, ckpt.get('meta') or {}, args.config))
            elif args.target == 'timm':
                converted, report = to_timm(state)
            else:
                converted, report = CONVERTERS[args.source](state)
            meta = dict(converted_from=args.source, source=osp.abspath(args.src))
        print(report.summary())
        if not converted:
            raise ValueError('nothing was converted; is --from right?')
        if args.target == 'hf':
            write_hf(args.dst, converted, config)
        else:
            write_checkpoint(args.dst, converted, None if args.target else meta, bare=args.target == 'timm')
    except (CheckpointReadError, ValueError, KeyError) as err:
        sys.exit(f'error: {err}')
    print(f'wrote {args.dst}')


if __name__ == '__main__':
    main()
