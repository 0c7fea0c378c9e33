"""Trains any config of this project with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp {bf16,fp16}]
                                 [--vis local|tensorboard|wandb] [--data-root DIR]
                                 [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

--data-root DIR: your own images in the layout of the config's task (README "Your own data").

Multi-GPU: tools/dist_train.sh CONFIG GPUS; slurm: tools/slurm_train.sh PARTITION JOB CONFIG.
Exit status 2: the own data folder does not fit its layout (one line); 75: preempted, saved, resumable with --resume. The code: mae_mm/launch/train.py.
"""
import sys

from mae_mm.launch.train import main

if __name__ == '__main__':
    sys.exit(main())
