"""The data side of resuming inside an epoch at 10%, 50% and 90% of it: drawing and dropping the
trained batches (before issue 32) against starting the sampler after them (ResumableSampler).

    python tools/benchmark_resume.py [--images 3000] [--data DIR] [--workers 2] [--batch 32]
                                     [--repeats 3] [--fractions 0.1 0.5 0.9] [--config CONFIG]

Makes ``--images`` random-noise 128 x 128 JPEGs once, builds the demo pretraining config's
training DataLoader over them and times, each way, making the epoch's iterator up to holding the
first batch to train, with the images the pipeline loaded by then; prints a markdown table.
What each figure means: mae_mm/benchmark/resume_cost.py; the figures: docs/benchmark.md.
"""
from mae_mm.benchmark.resume_cost import main

if __name__ == '__main__':
    main()
