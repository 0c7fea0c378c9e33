"""Writes the embedded demo data sets under data/demo/ in the real data sets' layouts.

    python tools/make_demo_data.py [--out data/demo] [--seed 0]

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

Idempotent: a set already complete with the same parameters is left as it is.
"""
import argparse

from mae_mm.demo_data.make import make_all


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default='data/demo', help='root of the demo data sets')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    for root, count in make_all(args.out, args.seed):
        print(f'{root}: already complete' if count is None else f'{root}: wrote {count} images')


if __name__ == '__main__':
    main()
