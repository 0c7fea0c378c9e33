"""Writes every demo data set under one root, skipping those already complete with the same parameters.

Each set's folder holds a ``.complete`` stamp (JSON: seed, version, classes, split sizes), written
once the set is; a set whose stamp matches is left as it is, any other is written again.
"""
import json
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

from . import ade20k, coco, imagenet, imagenet_c, imagenet_r, inat

# name -> (module, make function); each writes <out>/<name>/ and returns the number of images
DATASETS = {'imagenet': (imagenet, imagenet.make_imagenet),
            # made from imagenet's val images, so after it
            'imagenet-c': (imagenet_c, imagenet_c.make_imagenet_c),
            'imagenet-r': (imagenet_r, imagenet_r.make_imagenet_r),
            'ade20k': (ade20k, ade20k.make_ade20k),
            'coco': (coco, coco.make_coco),
            'inat': (inat, inat.make_inat)}


def stamp_of(module, seed: int) -> dict:
    """The parameters a set was written with, as JSON reads them back (tuples become lists)."""
    stamp = dict(seed=seed, version=getattr(module, 'VERSION', 1),
                 **{k.lower(): getattr(module, k) for k in ('CLASSES', 'SPLIT_SIZES') if hasattr(module, k)})
    return json.loads(json.dumps(stamp))


def make_all(out: str, seed: int) -> Iterator[Tuple[str, Optional[int]]]:
    """Writes ``out/<name>/`` for each of :data:`DATASETS`; yields ``(folder, images written)``
    per set as it is done, ``None`` for a set that was already complete."""
    for name, (module, make) in DATASETS.items():
        root = osp.join(out, name)
        stamp_path = osp.join(root, '.complete')
        stamp = stamp_of(module, seed)
        if osp.exists(stamp_path):
            with open(stamp_path) as f:
                if json.load(f) == stamp:
                    yield root, None
                    continue
        os.makedirs(root, exist_ok=True)
        count = make(root, seed)
        with open(stamp_path, 'w') as f:
            json.dump(stamp, f)
        yield root, count
