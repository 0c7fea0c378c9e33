"""Writes the embedded demo data sets under data/demo/ in the real data sets' layouts.

    python tools/make_demo_data.py [--out data/demo] [--seed 0] [--own-data]

- ``imagenet/{train,val}/<class>/*.JPEG``: five classes of pictures: crops of the real
  photographs matplotlib ships (``photo``), and disks, stripes, checkerboards and triangles
  drawn over softened photo crops.
- ``coco/{train2017,val2017}/*.jpg`` + ``coco/annotations/instances_{train,val}2017.json``: disks,
  triangles and squares with their exact polygons, boxes and areas.
- ``ade20k/images/{training,validation}/*.jpg`` + ``ade20k/annotations/{training,validation}/*.png``:
  regions of four classes stored as 1..4, 0 = ignore (ADE20K's reduce-zero-label convention).
- ``imagenet-c/<corruption>/<severity>/<class>/*.JPEG``: the ImageNet validation images as 64 x 64
  centre crops, corrupted by 14 of ImageNet-C's corruptions at its five severities.
- ``imagenet-r/<class>/*.jpg``: renditions (cartoon, sketch, painting, video game) of three of the
  five classes' validation images.
- ``inat/train_val2019/<supercategory>/<species>/*.jpg`` + ``inat/{train,val}2019.json``: an
  iNaturalist-style set in its json layout.

With ``--own-data``, instead: ``own/`` only, examples of the layouts a user's own data comes in, for
``tools/train.py CONFIG --data-root DIR`` (:mod:`mae_mm.demo_data.own_data`): ``own/photos/`` (flat,
unlabelled, mixed formats), ``own/photos-nested/``, ``own/classification/{train,val}/<class>/``,
``own/coco/`` (``{train,val}/`` + ``annotations/{train,val}.json``) and ``own/segmentation/``
(``images/``, ``annotations/``, ``classes.txt``).

Idempotent: a set already complete with the same parameters is left as it is.
"""
import argparse
import json
import os.path as osp

from mae_mm.demo_data import own_data
from mae_mm.demo_data.make import make_all, stamp_of


def make_own(out: str, seed: int):
    """Writes ``out/own/`` unless its ``.complete`` stamp matches (as :func:`make_all` does for
    each set); returns ``{layout: folder}``, ``None`` if it was already complete."""
    root = osp.join(out, 'own')
    stamp_path, stamp = osp.join(root, '.complete'), stamp_of(own_data, seed)
    if osp.exists(stamp_path):
        with open(stamp_path) as f:
            if json.load(f) == stamp:
                return None
    folders = own_data.make_own_data(root, seed)
    with open(stamp_path, 'w') as f:
        json.dump(stamp, f)
    return folders


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/demo', help='root of the demo data sets')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--own-data', action='store_true',
                        help="write only <out>/own/: examples of a user's own data layouts")
    args = parser.parse_args()
    if args.own_data:
        folders = make_own(args.out, args.seed)
        if folders is None:
            print(f'{osp.join(args.out, "own")}: already complete')
        for name, folder in (folders or {}).items():
            print(f'{name}: {folder}')
        return
    for root, count in make_all(args.out, args.seed):
        print(f'{root}: already complete' if count is None else f'{root}: wrote {count} images')


if __name__ == '__main__':
    main()
