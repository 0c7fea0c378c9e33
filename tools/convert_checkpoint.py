"""Converts MAE checkpoints into this project's keys, or exports an encoder for timm.

    python tools/convert_checkpoint.py SRC DST --from official|mmpretrain
    python tools/convert_checkpoint.py SRC DST --to timm

- ``official``: the MAE release's ``mae_pretrain_vit_*.pth`` (encoder), ``mae_visualize_vit_*.pth``
  (encoder + decoder) and ``mae_finetuned_vit_*.pth`` (classifier), weights under ``model``.
- ``mmpretrain``: an mmpretrain ``MAE`` checkpoint (weights under ``state_dict``).
- ``--to timm``: our pretraining or classifier checkpoint -> a timm ``VisionTransformer`` state dict.

Files are read with ``torch.load(weights_only=True)``; the official files also pickle their
training ``argparse.Namespace``, which is allowed for them. ``--trust-source`` turns the
safety off for a file you trust that holds anything else. The output is a plain
``{'state_dict': ..., 'meta': ...}`` that ``load_from`` and ``init_cfg`` read.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from mae_mm.convert import CONVERTERS, to_timm


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src')
    parser.add_argument('dst')
    direction = parser.add_mutually_exclusive_group(required=True)
    direction.add_argument('--from', dest='source', choices=sorted(CONVERTERS))
    direction.add_argument('--to', dest='target', choices=['timm'])
    parser.add_argument('--trust-source', action='store_true',
                        help='load SRC with weights_only=False (only for a file you trust)')
    return parser.parse_args()


def load(path: str, trust: bool) -> dict:
    if not osp.isfile(path):
        sys.exit(f'error: {path} does not exist')
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location='cpu', weights_only=not trust)
    except Exception as err:  # noqa: BLE001 (torch raises several types here)
        sys.exit(f'error: cannot load {path} with weights_only=True ({str(err).splitlines()[-1][:300]}).\n'
                 f'If you trust this file, rerun with --trust-source.')


def weights_of(ckpt: dict, path: str) -> dict:
    for key in ('model', 'state_dict'):
        if isinstance(ckpt.get(key), dict):
            return ckpt[key]
    if ckpt and all(torch.is_tensor(v) for v in ckpt.values()):
        return ckpt
    sys.exit(f'error: {path} holds no weights under "model" or "state_dict" (keys: {sorted(ckpt)[:10]})')


def main():
    args = parse_args()
    state = weights_of(load(args.src, args.trust_source), args.src)
    if args.target == 'timm':
        converted, report = to_timm(state)
        payload = converted
    else:
        converted, report = CONVERTERS[args.source](state)
        payload = dict(state_dict=converted, meta=dict(converted_from=args.source, source=osp.abspath(args.src)))
    print(report.summary())
    if not converted:
        sys.exit('error: nothing was converted; is --from right?')
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(payload, args.dst)
    print(f'wrote {args.dst}')


if __name__ == '__main__':
    main()
