"""Draws training curves of one or more runs from mmengine's scalars.json, against iterations.

    python tools/plot_curves.py WORK_DIR [WORK_DIR ...] [--keys loss,lr,knn/top1] [--out curves.png]

Every start of a resumed run is merged by step, and metrics logged at epochs are put at
iterations; the rules: mae_mm/suite/report/curves.py.
"""
import argparse

from mae_mm.suite.report.curves import draw


def parse_args():
    parser = argparse.ArgumentParser(description='Plot loss, lr and metrics of mmengine runs')
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--keys', default='loss,lr,knn/top1', help='comma-separated scalar names')
    parser.add_argument('--out', default='curves.png')
    return parser.parse_args()


def main():
    args = parse_args()
    drawn = draw(args.work_dirs, [k for k in args.keys.split(',') if k], args.out)
    if drawn.missing:  # e.g. a metric of a stage that has not run yet: drawn without it, and said so
        print(f'plot_curves: {drawn.missing} are in none of {drawn.runs}; drawing the others '
              f'(keys there: {drawn.available})')
    print(f'wrote {args.out}: {", ".join(drawn.keys)} of {", ".join(drawn.runs)}')


if __name__ == '__main__':
    main()
