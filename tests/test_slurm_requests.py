"""Slurm requests checked before they wait forever (mae_mm/launch/slurm_request.py).

On the real single-node Slurm of tests/slurm_cluster.py: ``tools/slurm_train.sh`` refuses a
request no node can hold, or a partition that does not exist, before submitting (exit 2, one
message naming the numbers and the variable to change), and so does ``tools/transfer.py
--launcher slurm``; a request that fits is submitted (with a warning while the nodes are drained);
``tools/transfer.py --status`` shows why a pending job waits and what to do when that does not
clear by itself. Then the reasons and the message's arithmetic without a cluster.
"""
import json
import os.path as osp
import subprocess
import time

import pytest

from mae_mm.launch.slurm_request import Node, Request, gpu_count, parse_request, shortfalls, waiting_hint
from reliability_utils import ROOT, run

PRETRAIN = 'configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'
FINETUNE = 'configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py'


def slurm_train(cluster, *args, **env):
    """``tools/slurm_train.sh ARGS`` against ``cluster`` with the variables ``env``; the CompletedProcess."""
    return run('tools/slurm_train.sh', *args, check=False, timeout=120, env=dict(SLURM_CONF=cluster.conf, **env))


def queued(cluster):
    """The ids of the jobs squeue lists."""
    out = subprocess.run(['squeue', '-h', '-o', '%i'], env=cluster.env, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def refused_alone(cluster, proc, before):
    """Asserts ``proc`` was refused with one message and exit 2, and no job was submitted (those
    that were are cancelled first, so a broken check leaves no job pending for good)."""
    new = queued(cluster) - before
    if new:
        subprocess.run(['scancel', *new], env=cluster.env, check=False)
    assert proc.returncode == 2 and not new, (proc.returncode, new, proc.stdout, proc.stderr)
    assert 'Traceback' not in proc.stderr and proc.stderr.count('refused before submission') == 1, proc.stderr


@pytest.mark.slow
def test_more_cpus_than_any_node_has_is_refused_before_submission(slurm_cluster, tmp_path):
    cpus = int(slurm_cluster.node()['CPUTot'])
    before = queued(slurm_cluster)
    work = tmp_path / 'work'
    proc = slurm_train(slurm_cluster, slurm_cluster.partition, 'too-wide', PRETRAIN, str(work), GPUS='1',
                       CPUS_PER_TASK=str(cpus + 1))
    refused_alone(slurm_cluster, proc, before)
    message = proc.stderr
    assert message.startswith('slurm_train.sh: refused before submission: Slurm can never run this job in '
                              f'partition {slurm_cluster.partition}'), message
    assert f'asked: 1 task (GPUS) of {cpus + 1} CPUs each (CPUS_PER_TASK), 0 GPUs per node' in message, message
    assert f'the largest has {cpus} CPU' in message, message
    assert f'CPUS_PER_TASK={cpus + 1} is more than the {cpus} CPUs of the largest node: set CPUS_PER_TASK={cpus} ' \
           'or less' in message, message
    assert not work.exists()  # nothing made for a job that is not submitted
    # more tasks than the partition's CPUs hold: the number of processes is the one to lower
    proc = slurm_train(slurm_cluster, slurm_cluster.partition, 'too-many', PRETRAIN, str(work), GPUS=str(cpus + 1),
                       CPUS_PER_TASK='1')
    refused_alone(slurm_cluster, proc, before)
    assert f'GPUS={cpus + 1} tasks x 1 CPU = {cpus + 1} CPUs, more than the {cpus} of the partition\'s 1 node: ' \
           f'set GPUS={cpus} or less' in proc.stderr, proc.stderr


@pytest.mark.slow
def test_a_partition_that_does_not_exist_is_refused_naming_those_that_do(slurm_cluster, tmp_path):
    before = queued(slurm_cluster)
    proc = slurm_train(slurm_cluster, 'no-such-partition', 'nowhere', PRETRAIN, str(tmp_path / 'work'), GPUS='1',
                       CPUS_PER_TASK='1')
    refused_alone(slurm_cluster, proc, before)
    assert (f'partition no-such-partition does not exist (sinfo lists: {slurm_cluster.partition}, '
            f'{slurm_cluster.high_partition}): give one of these '
            'as PARTITION') in proc.stderr, proc.stderr


@pytest.mark.slow
def test_the_suite_refuses_a_request_that_can_never_run_before_submitting_anything(slurm_cluster, tmp_path,
                                                                                    demo_data):
    """tools/transfer.py --launcher slurm: slurm_train.sh's message, the suite's own knobs, exit 2."""
    cpus = int(slurm_cluster.node()['CPUTot'])
    checkpoint = tmp_path / 'pretrain.pth'
    _fake_checkpoint(checkpoint)
    suite = tmp_path / 'suite.py'
    suite.write_text(f"_base_ = {osp.join(ROOT, 'configs', 'suites', 'demo.py')!r}\n"
                     "stages = dict(_delete_=True, pretrain=_base_.stages.pretrain)\n")
    before = queued(slurm_cluster)
    proc = run('tools/transfer.py', str(checkpoint), '--suite', str(suite), '--work-dir', str(tmp_path / 'run'),
               '--launcher', 'slurm', '--partition', slurm_cluster.partition, '--gpus', str(cpus + 1), check=False,
               timeout=300, threads=1, env=dict(SLURM_CONF=slurm_cluster.conf, CPUS_PER_TASK='1'))
    refused_alone(slurm_cluster, proc, before)
    assert proc.stderr.startswith('transfer.py: slurm_train.sh: refused before submission'), proc.stderr
    assert f'set GPUS={cpus} or less' in proc.stderr and '--gpus N sets GPUS' in proc.stderr, proc.stderr
    # refused before anything is written or discarded (a --replace keeps the old run)
    assert not (tmp_path / 'run' / 'manifest.json').exists()


def _fake_checkpoint(path):
    """A file with our pretraining checkpoint's keys (never trained on), written by a child process."""
    code = ('import sys, torch; torch.save(dict(state_dict={"encoder.pos_embed": torch.zeros(1, 65, 192), '
            '"encoder.blocks.0.norm1.weight": torch.ones(192)}, meta={}), sys.argv[1])')
    run('-c', code, str(path))


def slurm_run(work, partition, job_id):
    """A Slurm suite run in ``work`` by hand: one finetune point, running as ``job_id``."""
    point = dict(name='', overrides={}, seed=None, stage='finetune', status='running', reason=None, metrics=None,
                 job_id=job_id, log=None, pid=None, host=None)
    stage = dict(config=FINETUNE, gpus=1, train=True, metrics=dict(top1='accuracy/top1'), select='top1',
                 lower_is_better=False)
    manifest = dict(version=1, created='2026-01-01 00:00:00', launcher='slurm', partition=partition,
                    checkpoint=dict(path=str(work / 'pretrain.pth'), size=1, mtime_ns=1, sha256='ab' * 32,
                                    kind='mae_mm', converted=None),
                    suite=dict(path='configs/suites/demo.py', sha256='cd' * 32, cited={}),
                    stages=dict(finetune=dict(stage=stage, needs=['checkpoint'], points=[point])))
    work.mkdir(parents=True, exist_ok=True)
    (work / 'manifest.json').write_text(json.dumps(manifest))


def status(cluster, work, timeout=15.0):
    """The point's line of ``tools/transfer.py --status WORK``, once squeue gives its job a reason
    (slurmctld sets it when it first schedules the job: at once, or within ``timeout`` s)."""
    deadline = time.time() + timeout
    while True:
        proc = run('tools/transfer.py', '--status', str(work), check=False, timeout=120,
                   env=dict(SLURM_CONF=cluster.conf))
        assert proc.returncode == 0 and 'Traceback' not in proc.stderr, proc.stdout + proc.stderr
        line = proc.stdout.splitlines()[1].strip()
        if 'PENDING, ' not in line or time.time() > deadline:
            return line
        time.sleep(0.5)


@pytest.mark.slow
def test_a_request_that_fits_is_submitted_and_status_shows_why_it_waits(slurm_cluster, tmp_path):
    """Submitted to start in an hour, then held: --status names the hold and the command that
    releases it; released, it waits for its start time, an ordinary reason, with no hint."""
    work = tmp_path / 'run'
    proc = slurm_train(slurm_cluster, slurm_cluster.partition, 'held', FINETUNE, str(work / 'finetune'), GPUS='1',
                       CPUS_PER_TASK='1', SBATCH_ARGS='--begin=now+1hour')
    assert proc.returncode == 0 and proc.stderr == '', proc.stderr
    job = proc.stdout.strip()
    try:
        subprocess.run(['scontrol', 'hold', job], env=slurm_cluster.env, check=True)
        slurm_run(work, slurm_cluster.partition, job)
        # held by root (scontrol hold): JobHeldAdmin; sbatch --hold would be JobHeldUser
        assert status(slurm_cluster, work) == \
            f'finetune: running (job {job} PENDING: JobHeldAdmin, starting): held: scontrol release {job}'
        manifest = json.load(open(work / 'manifest.json'))
        assert manifest['stages']['finetune']['points'][0]['status'] == 'running'
        subprocess.run(['scontrol', 'release', job], env=slurm_cluster.env, check=True)
        line = status(slurm_cluster, work, timeout=0)  # 'PENDING: BeginTime', or no reason yet
        assert line.startswith(f'finetune: running (job {job} PENDING') and line.endswith(', starting)'), line
        assert 'JobHeld' not in line and 'scontrol release' not in line, line
    finally:
        subprocess.run(['scancel', job], env=slurm_cluster.env, check=False)


@pytest.mark.slow
def test_drained_nodes_let_a_fitting_request_through_and_status_says_why_it_waits(slurm_cluster, tmp_path):
    """sbatch --test-only says no while every node is drained: a request that fits them is
    submitted with a warning, and --status flags its ReqNodeNotAvail."""
    node = slurm_cluster.hostname
    work = tmp_path / 'run'
    job = None
    subprocess.run(['scontrol', 'update', f'NodeName={node}', 'State=DRAIN', 'Reason=test_slurm_requests'],
                   env=slurm_cluster.env, check=True)
    try:
        proc = slurm_train(slurm_cluster, slurm_cluster.partition, 'drained', FINETUNE, str(work / 'finetune'),
                           GPUS='1', CPUS_PER_TASK='1')
        job = proc.stdout.strip()
        assert proc.returncode == 0 and job, proc.stderr
        assert proc.stderr.startswith('slurm_train.sh: warning: sbatch --test-only cannot place the job now') \
            and f'down or drained: {node} drain' in proc.stderr, proc.stderr
        slurm_run(work, slurm_cluster.partition, job)
        # squeue gives either form of the reason, depending on which scheduler pass set it last (the
        # long one since the fixture's node also serves a higher-priority partition; seen in a CI run)
        reasons = (f'ReqNodeNotAvail, UnavailableNodes:{node}',
                   'Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions')
        assert status(slurm_cluster, work) in [
            f'finetune: running (job {job} PENDING: {reason}, starting): will not start by itself: every node of '
            f'its partition is down or drained; it starts once an administrator returns one (sinfo -R), or scancel {job}'
            for reason in reasons]
    finally:
        if job:
            subprocess.run(['scancel', job], env=slurm_cluster.env, check=False)
        subprocess.run(['scontrol', 'update', f'NodeName={node}', 'State=RESUME'], env=slurm_cluster.env, check=False)


# ---------------------------------------------------------------- without a cluster

FLAGGED = {
    'PartitionConfig': "will not start by itself: the request exceeds the partition's limits; scancel 7",
    'PartitionNodeLimit': "will not start by itself: the request exceeds the partition's limits; scancel 7",
    'PartitionTimeLimit': 'will not start by itself: its time limit exceeds',
    'BadConstraints': 'will not start by itself: no node has what it asks for',
    'InvalidAccount': 'will not start by itself: its account does not exist',
    'InvalidQOS': 'will not start by itself: its QOS does not exist',
    'QOSMaxCpuPerJobLimit': 'will not start by itself: the request exceeds a per-job limit',
    'AssocMaxJobsLimit': 'may never start: a limit of its account or QOS',
    'AssocGrpCpuLimit': 'may never start: a limit of its account or QOS',
    'AssocGrpGRES': 'may never start: a limit of its account or QOS',
    'QOSMaxCpuPerUserLimit': 'may never start: a limit of its account or QOS',
    'QOSMaxGRESPerUserLimit': 'may never start: a limit of its account or QOS',
    'JobHeldUser': 'held: scontrol release 7',
    'JobHeldAdmin': 'held: scontrol release 7',
    'DependencyNeverSatisfied': 'will not start: a job it waits for ended without success; scancel 7',
}


@pytest.mark.parametrize('reason', sorted(FLAGGED))
def test_reasons_that_do_not_clear_by_themselves_are_flagged(reason):
    hint = waiting_hint(reason, '7')
    assert hint is not None and hint.startswith(FLAGGED[reason]), hint


@pytest.mark.parametrize('reason', ['Priority', 'Resources', 'Dependency', 'BeginTime', 'None', '', None,
                                    'ReqNodeNotAvail, UnavailableNodes:n1'])
def test_ordinary_reasons_are_not_flagged(reason):
    assert waiting_hint(reason, '7') is None


def test_unavailable_nodes_are_flagged_only_when_every_node_is_down():
    for reason in ('ReqNodeNotAvail, UnavailableNodes:n1',
                   'Nodes required for job are DOWN, DRAINED or reserved for jobs in higher priority partitions'):
        assert waiting_hint(reason, '7', partition_down=True).startswith(
            'will not start by itself: every node of its partition is down or drained')
    assert waiting_hint('Priority', '7', partition_down=True) is None


def test_the_message_names_the_numbers_of_gpu_nodes():
    """The arithmetic the single-node CPU cluster cannot show: GPUs per node, tasks per node, nodes."""
    nodes = [Node('g1', 64, 8, 'idle'), Node('g2', 64, 8, 'mixed'), Node('g3', 32, 4, 'drained')]
    request = parse_request(['-p', 'gpu', '--ntasks=28', '--cpus-per-task=10', '--gres=gpu:8',
                             '--ntasks-per-node=8', '--array=0-3%2', '--dependency=afterok:5'])
    assert request == Request('gpu', tasks=28, cpus_per_task=10, tasks_per_node=8, gpus_per_node=8)
    assert shortfalls(request, nodes) == [
        "8 tasks per node (GPUS_PER_NODE) x 10 CPUs = 80 CPUs per node, more than the largest node's 64: "
        'set CPUS_PER_TASK=8 or less',
        'GPUS=28 tasks at 8 per node need 4 nodes, the partition has 3: set GPUS=24 or less']
    assert shortfalls(Request('gpu', tasks=16, cpus_per_task=8, tasks_per_node=8, gpus_per_node=8), nodes) == []
    assert shortfalls(Request('gpu', tasks=16, cpus_per_task=1, tasks_per_node=16, gpus_per_node=16), nodes) == [
        'GPUS_PER_NODE=16 is more than the 8 GPUs of the largest node: set GPUS_PER_NODE=8']
    assert shortfalls(Request('gpu', tasks=1, nodes=4), nodes) == [
        "--nodes=4 (SBATCH_ARGS) is more than the partition's 3 nodes"]
    assert gpu_count('gpu:a100:4(S:0-1),gpu:v100:2') == 6 and gpu_count('(null)') == 0
    assert [n.unavailable for n in nodes] == [False, False, True]
    assert Node('n', 1, 0, 'idle*').unavailable and not Node('n', 1, 0, 'idle~').unavailable
