"""The test Slurm cluster itself: a batch job runs, and a job that traps its signal requeues and reruns.

These pin what the preemption and transfer-suite tests build on: ``sbatch``, ``scontrol``,
``scancel --signal=USR1 --batch`` and ``scontrol requeue`` on a real single-node Slurm.
"""
import os.path as osp
import subprocess
import time

import pytest

pytestmark = pytest.mark.slow

REQUEUE_SCRIPT = """#!/bin/bash
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output={out}
echo "start restarts=${{SLURM_RESTART_COUNT:-0}}"
if [ "${{SLURM_RESTART_COUNT:-0}}" = 0 ]; then
  trap 'echo "got USR1"; scontrol requeue $SLURM_JOB_ID; exit 0' USR1
  touch {ready}
  while true; do sleep 0.2; done
fi
echo "second run done"
"""


def test_a_batch_job_runs_to_completion(slurm_cluster, tmp_path):
    out = tmp_path / 'hello.out'
    job = slurm_cluster.sbatch('--output', str(out), '--wrap', 'echo "hello from job $SLURM_JOB_ID"')
    fields = slurm_cluster.wait_for(job, timeout=120)
    assert fields['JobState'] == 'COMPLETED', fields
    assert out.read_text().strip() == f'hello from job {job}'


def test_a_signalled_job_requeues_itself_and_runs_again(slurm_cluster, tmp_path):
    out, ready = tmp_path / 'requeue.out', tmp_path / 'ready'
    script = tmp_path / 'job.sh'
    script.write_text(REQUEUE_SCRIPT.format(out=out, ready=ready))
    job = slurm_cluster.sbatch(str(script))
    slurm_cluster.wait_for(job, states=('RUNNING',), timeout=120)
    deadline = time.time() + 60
    while not osp.exists(ready):  # the trap is set
        assert time.time() < deadline, out.read_text() if out.exists() else 'no output'
        time.sleep(0.2)
    subprocess.run(['scancel', '--signal=USR1', '--batch', job], env=slurm_cluster.env, check=True)
    fields = slurm_cluster.wait_for(job, states=('COMPLETED',), timeout=240)
    assert fields['Restarts'] == '1', fields
    # slurmstepd may add a line of its own ('CANCELLED ... DUE TO JOB REQUEUE') as the first run ends
    lines = [line for line in out.read_text().splitlines() if not line.startswith('slurmstepd')]
    assert lines == ['start restarts=0', 'got USR1', 'start restarts=1', 'second run done']
