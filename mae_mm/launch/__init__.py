"""Launch-time preparation, before a Runner exists: the command lines of ``tools/train.py``
(:mod:`.train`) and ``tools/test.py`` (:mod:`.evaluate`), the one function both go through
(:func:`.prepare.prepare_run`), and the checks it makes: data paths and the accumulation-aware lr
scaling (:mod:`.config_checks`), the schedule against the run's length (:mod:`.schedule_checks`),
CPU-only distributed runs (:mod:`.cpu_distributed`), mmcv's compiled ops (:mod:`.cuda_ops_check`);
and, for ``tools/slurm_train.sh``, whether Slurm can ever run a request (:mod:`.slurm_request`).
A ``--data-root`` folder is read by :mod:`mae_mm.own_data`, which ``prepare_run`` calls.
Nothing here is registered: the Runner's own components live in :mod:`mae_mm.engine`.
"""
