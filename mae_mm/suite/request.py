"""What one ``tools/transfer.py CHECKPOINT --suite SUITE ...`` command asks for, as plain values."""
import os.path as osp
from typing import NamedTuple, Optional, Sequence


class SuiteRequest(NamedTuple):
    """A suite run or a study to start or continue (the command line's options; see ``tools/transfer.py``).

    Args:
        checkpoint: The pretraining checkpoint every stage starts from (a suite run; None for a study).
        suite: The suite file, e.g. ``configs/suites/vit-base.py``.
        work_dir: The run's folder; None for :meth:`resolved_work_dir`'s default.
        launcher: ``'local'`` or ``'slurm'``.
        partition: The Slurm partition (launcher ``'slurm'``).
        gpus: Processes per stage; None for 1 locally and the suite's on Slurm.
        only: Comma-separated stages to run ('' for all).
        sweeps: ``KEY=V1,V2`` grid specifications.
        seeds: Run every point with seeds ``0 .. seeds - 1``; None keeps the config's seed.
        retry_failed: Run failed points again.
        replace: Discard the work dir's run when it holds another checkpoint's.
        dry_run: Check everything and print the plan; run nothing.
        progress_interval: Seconds between a local run's progress lines.
        pretrain: A study's pretraining config (None for a suite run).
        pretrain_sweeps: ``KEY=V1,V2`` grid specifications over ``pretrain``'s keys.
        random_init: Also run every training stage from no checkpoint (the random-init row).
    """

    checkpoint: Optional[str]
    suite: str
    work_dir: Optional[str] = None
    launcher: str = 'local'
    partition: Optional[str] = None
    gpus: Optional[int] = None
    only: str = ''
    sweeps: Sequence[str] = ()
    seeds: Optional[int] = None
    retry_failed: bool = False
    replace: bool = False
    dry_run: bool = False
    progress_interval: float = 30.0
    pretrain: Optional[str] = None
    pretrain_sweeps: Sequence[str] = ()
    random_init: bool = False

    def resolved_work_dir(self) -> str:
        """``work_dir``, or ``work_dirs/transfer/<checkpoint name>-<suite name>`` (a study:
        ``work_dirs/study/<pretraining config name>-<suite name>``)."""
        if self.work_dir:
            return self.work_dir
        if self.pretrain:
            return osp.join('work_dirs', 'study', f'{_stem(self.pretrain)}-{_stem(self.suite)}')
        return osp.join('work_dirs', 'transfer', f'{_stem(self.checkpoint)}-{_stem(self.suite)}')


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]
