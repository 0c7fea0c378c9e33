"""Evaluates a checkpoint with any config of this project (its test dataloader and evaluator).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out METRICS.json]
                                           [--data-root DIR] [--cfg-options KEY=VALUE ...] [--launcher ...]

The code: mae_mm/launch/evaluate.py.
"""
import sys

from mae_mm.launch.evaluate import main

if __name__ == '__main__':
    sys.exit(main())
