"""Writes the embedded demo data sets under data/demo/ in the real data sets' layouts.

    python tools/make_demo_data.py [--out data/demo] [--seed 0]

- ``imagenet/{train,val}/<class>/*.JPEG``: five classes of pictures: crops of the real
  photographs matplotlib ships (``photo``), and disks, stripes, checkerboards and triangles
  drawn over softened photo crops.
- ``coco/{train2017,val2017}/*.jpg`` + ``coco/annotations/instances_{train,val}2017.json``: disks,
  triangles and squares with their exact polygons, boxes and areas.
- ``ade20k/images/{training,validation}/*.jpg`` + ``ade20k/annotations/{training,validation}/*.png``:
  regions of four classes stored as 1..4, 0 = ignore (ADE20K's reduce-zero-label convention).

Idempotent: a set already complete with the same parameters is left as it is.
"""
import argparse
import json
import os
import os.path as osp

from demo_data import ade20k, coco, imagenet

# name -> (module, make function); each writes <out>/<name>/ and returns the number of images
DATASETS = {'imagenet': (imagenet, imagenet.make_imagenet),
            'ade20k': (ade20k, ade20k.make_ade20k),
            'coco': (coco, coco.make_coco)}


def stamp_of(module, seed):
    return dict(seed=seed, version=getattr(module, 'VERSION', 1),
                **{k.lower(): getattr(module, k) for k in ('CLASSES', 'SPLIT_SIZES') if hasattr(module, k)})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/demo', help='root of the demo data sets')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    for name, (module, make) in DATASETS.items():
        root = osp.join(args.out, name)
        stamp_path = osp.join(root, '.complete')
        stamp = json.loads(json.dumps(stamp_of(module, args.seed)))
        if osp.exists(stamp_path):
            with open(stamp_path) as f:
                if json.load(f) == stamp:
                    print(f'{root}: already complete')
                    continue
        os.makedirs(root, exist_ok=True)
        count = make(root, args.seed)
        with open(stamp_path, 'w') as f:
            json.dump(stamp, f)
        print(f'{root}: wrote {count} images')


if __name__ == '__main__':
    main()
