"""Memory per rank of DDP against ShardedDataParallel (FSDP2): measured on CPU, and by formula.

    python tools/benchmark_sharded_memory.py [--arch large] [--config CONFIG] [--steps 2] [--batch 2]
                                             [--world-size 2] [--skip-measure] [--ranks 8 16 64]

Measured: the peak and steady resident memory of each process, DDP against sharded, in fresh
process pairs on the CPU (gloo), the MAE ViT-L/16 by default. Formula: the per-rank model state of
ViT-H, ViT-g, ViT-2B and ViT-6.5B at ``--ranks``, checked against the measurement. What each figure
means: mae_mm/benchmark/sharded_memory.py; the figures: docs/benchmark.md.
"""
from mae_mm.benchmark.sharded_memory import main

if __name__ == '__main__':
    main()
