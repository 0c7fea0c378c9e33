"""Runs that survive the cluster: a signal saves the iteration it arrives in, mid-epoch included,
the Slurm job requeues itself, and the resumed run ends exactly where an uninterrupted one does.

Every run here is the demo pretraining shortened to 96 images, 3 epochs of 3 iterations (batch
32 in one process, 16 per process in two), one DataLoader worker restarted each epoch.
PauseAtIterHook (tests/helpers/mae_mm_faults.py) holds the chosen iterations until the test has
sent its signal, so the signal arrives in the middle of that iteration.
"""
import glob
import json
import math
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from mae_mm.engine.preemption import PREEMPTED_EXIT_CODE, SaveOnSignalHook
from mae_mm.engine.resume import checkpoint_problem, find_resumable_checkpoint
from reliability_utils import HELPERS, ROOT, derived_config, free_port, run, short_schedule
from slurm_cluster import ENDED_STATES

SHORT = """
train_cfg = dict(max_epochs=3, val_interval=10)
train_dataloader = dict(batch_size={batch}, num_workers=1, persistent_workers=False, dataset=dict(indices=96))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1))
log_processor = dict(window_size=1)
""" + short_schedule(3)


def all_losses(work_dir: str) -> dict:
    """``{step: loss}`` over every run (timestamped folder) in ``work_dir``; a step logged twice
    with two values is an error."""
    losses = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for record in map(json.loads, filter(str.strip, f)):
                if 'loss' in record:
                    assert losses.setdefault(record['step'], record['loss']) == record['loss'], record
    return losses


def final_weights(work_dir: str) -> dict:
    return torch.load(osp.join(work_dir, 'epoch_3.pth'), map_location='cpu', weights_only=True)['state_dict']


def assert_same_run(work_dir: str, reference: str) -> None:
    """Per-iteration losses and final weights equal to the uninterrupted run's, bit for bit."""
    want, got = all_losses(reference), all_losses(work_dir)
    assert sorted(got) == list(range(1, 10)), sorted(got)
    assert got == want
    ref = final_weights(reference)
    for key, value in final_weights(work_dir).items():
        assert torch.equal(value, ref[key]), key


def meta(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)['meta']


def wait_for_file(path: str, proc=None, timeout: float = 180.0, on_wait=None) -> None:
    deadline = time.time() + timeout
    while not osp.exists(path):
        assert proc is None or proc.poll() is None, f'the run ended ({proc.returncode}) before {path}'
        assert time.time() < deadline, f'no {path} after {timeout:.0f} s'
        if on_wait is not None:
            on_wait()
        time.sleep(0.2)


@pytest.fixture(scope='module')
def reference_one(demo_data, tmp_path_factory):
    """The uninterrupted one-process run."""
    tmp = tmp_path_factory.mktemp('reference_one')
    work_dir = str(tmp / 'run')
    run('tools/train.py', derived_config(tmp, 'short', SHORT.format(batch=32)), '--work-dir', work_dir, threads=1)
    return work_dir


# the 2-rank runs: batch 16 per process, 2 DataLoader workers each (Slurm signals them too)
SHORT_TWO_RANKS = SHORT.format(batch=16).replace('num_workers=1', 'num_workers=2')


@pytest.fixture(scope='module')
def reference_two(demo_data, tmp_path_factory):
    """The uninterrupted 2-process run (tools/dist_train.sh)."""
    tmp = tmp_path_factory.mktemp('reference_two')
    work_dir = str(tmp / 'run')
    run('tools/dist_train.sh', derived_config(tmp, 'short2', SHORT_TWO_RANKS), '2', '--work-dir', work_dir, threads=1,
        env={'PORT': str(free_port())})
    return work_dir


def paused_config(tmp_path, markers: str, at_iters, batch: int = 32) -> str:
    os.makedirs(markers, exist_ok=True)
    return derived_config(tmp_path, 'paused', SHORT.format(batch=batch), extra_hooks=[
        dict(type='PauseAtIterHook', at_iters=list(at_iters), marker_dir=markers)])


@pytest.mark.slow
def test_slurm_job_preempted_twice_requeues_and_ends_exactly(slurm_cluster, reference_one, tmp_path):
    markers, work_dir = str(tmp_path / 'markers'), str(tmp_path / 'run')
    config = paused_config(tmp_path, markers, at_iters=(2, 5))
    # GPUS_PER_NODE is not set: tools/slurm_train.sh finds no GPU in the partition (sinfo) and asks for none
    env = dict(SLURM_CONF=slurm_cluster.conf, GPUS='1', CPUS_PER_TASK='1', MAX_RESTARTS='1', OMP_NUM_THREADS='1')
    submit = ('tools/slurm_train.sh', slurm_cluster.partition, 'mae-test', config, work_dir)

    job = run(*submit, env=env).stdout.strip()

    def job_still_runs():  # a requeued job would wait about a minute in BeginTime: release it soon
        fields = slurm_cluster.release_requeued(job)
        assert fields.get('JobState') not in ENDED_STATES, (
            f'job {job} ended before the marker: {fields}\n{slurm_cluster.logs()}\n'
            + open(osp.join(work_dir, f'slurm-{job}.out')).read()[-2000:])

    for at in (2, 5):
        wait_for_file(osp.join(markers, f'paused_{at}_rank0'), on_wait=job_still_runs)
        subprocess.run(['scancel', '--signal=USR1', '--batch', job], env=slurm_cluster.env, check=True)
    # the first signal requeued the job; the second found the restart limit (MAX_RESTARTS=1) reached
    fields = slurm_cluster.wait_for(job, timeout=300)
    assert fields['JobState'] == 'FAILED' and fields['ExitCode'] == f'{PREEMPTED_EXIT_CODE}:0', fields
    assert fields['Restarts'] == '1', fields
    assert meta(osp.join(work_dir, 'iter_2.pth'))['iter'] == 2 and meta(osp.join(work_dir, 'iter_2.pth'))['epoch'] == 0
    assert meta(osp.join(work_dir, 'iter_5.pth'))['iter'] == 5 and meta(osp.join(work_dir, 'iter_5.pth'))['epoch'] == 1
    log = open(osp.join(work_dir, f'slurm-{job}.out')).read()  # appended to by every restart
    assert '(restart 0): training' in log and '(restart 1): training' in log, log[-3000:]
    assert (f'(restart 0): training saved {osp.join(work_dir, "iter_2.pth")} on USR1 to the batch shell: requeueing'
            in log and 'not requeueing' in log), log[-3000:]

    # the user submits the same command again: it resumes from iteration 5 and finishes
    again = run(*submit, env=env).stdout.strip()
    fields = slurm_cluster.wait_for(again, timeout=300)
    assert fields['JobState'] == 'COMPLETED' and fields['Restarts'] == '0', fields
    assert_same_run(work_dir, reference_one)

    # a changed config whose model the checkpoint does not fit: a clear error, and no requeue loop
    changed = derived_config(tmp_path, 'changed', SHORT.format(batch=32) + 'model = dict(decoder=dict(embed_dim=96))')
    bad = run('tools/slurm_train.sh', slurm_cluster.partition, 'mae-test', changed, work_dir, env=env).stdout.strip()
    fields = slurm_cluster.wait_for(bad, timeout=300)
    assert fields['JobState'] == 'FAILED' and fields['Restarts'] == '0', fields
    assert 'does not fit the model' in open(osp.join(work_dir, f'slurm-{bad}.out')).read()


@pytest.mark.slow
def test_a_real_preemption_requeues_and_a_real_cancel_stays_cancelled_both_saving_every_worker_signalled(
        slurm_cluster, reference_two, tmp_path):
    """What a cluster really sends, on the fixture's Slurm set up to preempt (tests/slurm_cluster.py):
    a 2-rank training with 2 DataLoader workers each, in the preemptable partition.

    - At iteration 2 a job of the high partition that needs the whole node preempts it: Slurm
      sends TERM to every process of the step, workers included, and the job still runs. The
      training saves iteration 2, the job requeues itself and resumes after the other job.
    - At iteration 5 a plain ``scancel``: TERM to everything, the job cancelled. It saves iteration
      5, ends CANCELLED and is not requeued; its log says where it saved and what to run.
    - The same command again resumes from iteration 5; the losses and final weights equal an
      uninterrupted 2-rank run's, bit for bit."""
    markers, work_dir = str(tmp_path / 'markers'), str(tmp_path / 'run')
    os.makedirs(markers)
    config = derived_config(tmp_path, 'paused2', SHORT_TWO_RANKS, extra_hooks=[
        dict(type='PauseAtIterHook', at_iters=[2, 5], marker_dir=markers)])
    env = dict(SLURM_CONF=slurm_cluster.conf, GPUS='2', CPUS_PER_TASK='1', MAX_RESTARTS='3', OMP_NUM_THREADS='1',
               MASTER_PORT=str(free_port()))
    submit = ('tools/slurm_train.sh', slurm_cluster.partition, 'mae-preempt', config, work_dir)
    job = run(*submit, env=env).stdout.strip()
    log_path = osp.join(work_dir, f'slurm-{job}.out')

    def job_still_runs():
        fields = slurm_cluster.release_requeued(job)
        assert fields.get('JobState') not in ENDED_STATES, (
            f'job {job} ended before the marker: {fields}\n{slurm_cluster.logs()}\n' + open(log_path).read()[-3000:])

    for rank in (0, 1):
        wait_for_file(osp.join(markers, f'paused_2_rank{rank}'), on_wait=job_still_runs)
    high = slurm_cluster.sbatch('-p', slurm_cluster.high_partition, '--exclusive', '-n', '1',
                                '-o', str(tmp_path / 'high-%j.out'), '--wrap', 'sleep 2')
    assert slurm_cluster.wait_for(high, timeout=180, release_requeued=False)['JobState'] == 'COMPLETED'
    for rank in (0, 1):  # requeued at once, resumed from iteration 2, paused again at 5
        wait_for_file(osp.join(markers, f'paused_5_rank{rank}'), on_wait=job_still_runs)
    assert meta(osp.join(work_dir, 'iter_2.pth'))['iter'] == 2
    subprocess.run(['scancel', job], env=slurm_cluster.env, check=True)
    fields = slurm_cluster.wait_for(job, timeout=120, release_requeued=False)
    time.sleep(5)  # a job that requeued itself would be PENDING by now
    fields = slurm_cluster.job(job)
    assert fields['JobState'] == 'CANCELLED' and fields['Restarts'] == '1', fields
    log = open(log_path).read()
    saved2, saved5 = osp.join(work_dir, 'iter_2.pth'), osp.join(work_dir, 'iter_5.pth')
    assert (f'(restart 0): training saved {saved2} on a signal to the tasks (a preemption: the job still runs): '
            'requeueing') in log, log[-4000:]
    assert (f'(restart 1): cancelled (scancel): training saved {saved5}; not requeueing. To resume from there: '
            f'tools/slurm_train.sh {slurm_cluster.partition} mae-preempt {config} {work_dir}\n') in log, log[-4000:]
    assert meta(saved5)['iter'] == 5 and checkpoint_problem(saved5) is None
    again = run(*submit, env=env).stdout.strip()
    fields = slurm_cluster.wait_for(again, timeout=300)
    assert fields['JobState'] == 'COMPLETED' and fields['Restarts'] == '0', (
        fields, open(osp.join(work_dir, f'slurm-{again}.out')).read()[-3000:])
    assert_same_run(work_dir, reference_two)


@pytest.mark.slow
def test_two_processes_stop_at_the_same_iteration_and_resume_exactly(reference_two, tmp_path):
    markers, work_dir = str(tmp_path / 'markers'), str(tmp_path / 'run')
    os.makedirs(markers)
    config = derived_config(tmp_path, 'paused', SHORT_TWO_RANKS, extra_hooks=[
        dict(type='PauseAtIterHook', at_iters=[2, 5], marker_dir=markers)])

    def launch():
        env = dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{HELPERS}', PYTHON=sys.executable,
                   OMP_NUM_THREADS='1', PORT=str(free_port()))
        return subprocess.Popen(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work_dir, '--resume'],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    # only rank 1 is signalled: rank 0 stops after the same iteration all the same
    proc = launch()
    wait_for_file(osp.join(markers, 'paused_2_rank1'), proc)
    os.kill(int(open(osp.join(markers, 'paused_2_rank1')).read()), signal.SIGUSR1)
    open(osp.join(markers, 'release_2'), 'w').close()  # rank 0, not signalled, goes on
    assert proc.wait(timeout=300) == PREEMPTED_EXIT_CODE, proc.stderr.read()[-3000:]
    saved = torch.load(osp.join(work_dir, 'iter_2.pth'), map_location='cpu', weights_only=True)
    assert saved['meta']['iter'] == 2 and len(saved['random_states']) == 2
    # a SIGTERM to the launcher (as a scheduler sends it) saves the same way
    proc = launch()
    wait_for_file(osp.join(markers, 'paused_5_rank0'), proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=300) == PREEMPTED_EXIT_CODE, proc.stderr.read()[-3000:]
    assert meta(osp.join(work_dir, 'iter_5.pth'))['iter'] == 5
    proc = launch()
    assert proc.wait(timeout=300) == 0, proc.stderr.read()[-3000:]
    assert_same_run(work_dir, reference_two)


@pytest.mark.slow
def test_a_signal_during_a_checkpoint_write_leaves_it_whole(reference_one, tmp_path):
    """The handler only notes the signal: the epoch-1 checkpoint being written completes, and the
    run saves iteration 4 and stops; resumed, it ends as the uninterrupted run."""
    work_dir = str(tmp_path / 'run')
    config = derived_config(tmp_path, 'signal_in_save', SHORT.format(batch=32),
                            extra_hooks=[dict(type='SignalSelfHook', when='save', at_epoch=1)])
    proc = run('tools/train.py', config, '--work-dir', work_dir, check=False, threads=1)
    assert proc.returncode == PREEMPTED_EXIT_CODE, proc.stderr[-3000:]
    assert checkpoint_problem(osp.join(work_dir, 'epoch_1.pth')) is None
    assert meta(osp.join(work_dir, 'epoch_1.pth'))['iter'] == 3
    assert meta(osp.join(work_dir, 'iter_4.pth'))['iter'] == 4
    assert find_resumable_checkpoint(work_dir) == osp.join(work_dir, 'iter_4.pth')
    run('tools/train.py', derived_config(tmp_path, 'short', SHORT.format(batch=32)), '--work-dir', work_dir,
        '--resume', threads=1)
    assert_same_run(work_dir, reference_one)


@pytest.mark.slow
def test_a_signal_before_the_first_iteration_writes_nothing(demo_data, tmp_path):
    work_dir = str(tmp_path / 'run')
    config = derived_config(tmp_path, 'early', SHORT.format(batch=32),
                            extra_hooks=[dict(type='SignalSelfHook', when='before_train')])
    proc = run('tools/train.py', config, '--work-dir', work_dir, check=False, threads=1)
    assert proc.returncode == PREEMPTED_EXIT_CODE, proc.stderr[-3000:]
    assert 'before the first iteration' in proc.stdout + proc.stderr
    assert not glob.glob(osp.join(work_dir, '*.pth')) and not osp.exists(osp.join(work_dir, 'last_checkpoint'))


def test_the_launchers_read_the_preempted_exit_code_from_its_one_definition(tmp_path):
    """tools/dist_train.sh and tools/slurm_job.sh take the code from mae_mm/exit_codes.py: in a copy
    of the project whose file says 76, a training that saved on a signal and exited is preempted to
    both (dist_train.sh exits 76; slurm_job.sh requeues on 76)."""
    root = tmp_path / 'project'
    os.makedirs(root / 'tools')
    os.makedirs(root / 'mae_mm')
    for script in ('dist_train.sh', 'slurm_job.sh'):
        shutil.copy(osp.join(ROOT, 'tools', script), root / 'tools')
    with open(osp.join(ROOT, 'mae_mm', 'exit_codes.py')) as f:
        text = f.read()
    assert f'\nPREEMPTED = {PREEMPTED_EXIT_CODE}\n' in text
    (root / 'mae_mm' / 'exit_codes.py').write_text(text.replace(f'PREEMPTED = {PREEMPTED_EXIT_CODE}', 'PREEMPTED = 76'))
    fakes = tmp_path / 'bin'
    os.makedirs(fakes)
    for name, body in (('python', 'echo saved > "$MAE_MM_PREEMPTED_FILE"; exit 1'),  # torchrun reports 1
                       ('srun', 'exit 76'), ('scontrol', f'echo "$@" > {tmp_path}/scontrol')):
        (fakes / name).write_text(f'#!/bin/sh\n{body}\n')
        os.chmod(fakes / name, 0o755)
    env = dict(os.environ, PATH=f'{fakes}{os.pathsep}{os.environ["PATH"]}', PYTHON=str(fakes / 'python'))
    dist = subprocess.run(['bash', str(root / 'tools' / 'dist_train.sh'), 'config.py', '2'], env=env,
                          capture_output=True, text=True, timeout=60)
    assert dist.returncode == 76, dist.stdout + dist.stderr
    job = subprocess.run(['bash', str(root / 'tools' / 'slurm_job.sh'), 'config.py', str(tmp_path / 'work')],
                         env=dict(env, MAE_MM_ROOT=str(root), SLURM_JOB_ID='7', MAE_MM_MAX_RESTARTS='1'),
                         capture_output=True, text=True, timeout=60)
    assert job.returncode == 0 and (tmp_path / 'scontrol').read_text().split() == ['requeue', '7'], job.stdout


@pytest.mark.parametrize('srun_exit, state, requeued', [
    (69, 'RUNNING', True),     # LOST_PEER: a peer of the run died or stopped answering
    (137, 'RUNNING', True),    # a task killed by a signal (SIGKILL: srun's 128 + 9)
    (1, 'RUNNING', False),     # a config error or any other failure: once, not in a loop
    (2, 'RUNNING', False),     # a refused input or checkpoint
    (74, 'RUNNING', False),    # CHECKPOINT_NOT_WRITTEN: a full disk does not empty itself
    (137, 'CANCELLED', False),  # a scancel stays cancelled, whatever its tasks did
], ids=['lost-peer', 'killed', 'config-error', 'refused', 'full-disk', 'cancelled'])
def test_the_slurm_job_requeues_lost_peers_and_signal_deaths_never_errors_a_full_disk_or_a_cancel(
        tmp_path, srun_exit, state, requeued):
    """tools/slurm_job.sh's decision from srun's exit status and the job's state (scontrol), with
    srun and scontrol replaced by scripts: requeued (`scontrol requeue`, exit 0) or ended with the
    training's status."""
    fakes = tmp_path / 'bin'
    os.makedirs(fakes)
    for name, body in (('python', 'echo none'), ('srun', f'exit {srun_exit}'),
                       ('scontrol', f'case "$1" in -o) echo "JobId=7 JobState={state} Restarts=0" ;; '
                                    f'*) echo "$@" > {tmp_path}/scontrol ;; esac')):
        (fakes / name).write_text(f'#!/bin/sh\n{body}\n')
        os.chmod(fakes / name, 0o755)
    env = dict(os.environ, PATH=f'{fakes}{os.pathsep}{os.environ["PATH"]}', PYTHON=str(fakes / 'python'),
               MAE_MM_ROOT=ROOT, SLURM_JOB_ID='7', MAE_MM_MAX_RESTARTS='1')
    job = subprocess.run(['bash', osp.join(ROOT, 'tools', 'slurm_job.sh'), 'config.py', str(tmp_path / 'work')],
                         env=env, capture_output=True, text=True, timeout=60)
    if requeued:
        assert job.returncode == 0 and (tmp_path / 'scontrol').read_text().split() == ['requeue', '7'], job.stdout
        assert ': requeueing' in job.stdout, job.stdout
    else:
        assert job.returncode == srun_exit and not (tmp_path / 'scontrol').exists(), job.stdout + job.stderr
        assert 'requeueing' not in job.stdout.replace('not requeueing', ''), job.stdout


def test_an_unknown_signal_name_fails_when_the_hook_is_built():
    with pytest.raises(ValueError, match="'SIGFOO'"):
        SaveOnSignalHook(signals=('SIGTERM', 'SIGFOO'))
    with pytest.raises(ValueError, match="'SIGKILL'"):
        SaveOnSignalHook(signals=('SIGKILL',))


def test_resume_picks_the_latest_iteration_not_the_latest_name(tmp_path):
    def save(name, iteration):
        torch.save({'meta': {'iter': iteration, 'epoch': 0}, 'state_dict': {}}, str(tmp_path / name))

    save('epoch_4.pth', 80)   # 4 epochs of 20 iterations
    save('iter_50.pth', 50)   # an older save on a signal, in epoch 3
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_50.pth'))
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_4.pth')
    save('iter_90.pth', 90)
    (tmp_path / 'iter_95.pth').write_bytes(b'truncated')  # not whole: passed over
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_90.pth')


ROLLBACK = """
custom_hooks = [h for h in custom_hooks if h['type'] != 'mae_mm.NonFiniteLossHook'] + [
    dict(type='mae_mm.NonFiniteLossHook', on_nonfinite='rollback', max_rollbacks={max_rollbacks}, lr_factor=0.5),
    dict(type='InjectNonFiniteLossHook', at_iter=5)]
"""


@pytest.mark.slow
def test_a_nonfinite_loss_rolls_back_to_the_last_checkpoint_with_a_lower_lr(reference_one, tmp_path):
    work_dir = str(tmp_path / 'run')
    config = derived_config(tmp_path, 'rollback', SHORT.format(batch=32) + ROLLBACK.format(max_rollbacks=1))
    proc = run('tools/train.py', config, '--work-dir', work_dir, threads=1)
    log = proc.stdout + proc.stderr
    # the NaN of iteration 5 sent the run back to the end of epoch 1 (iteration 3)
    assert 'non-finite loss at iteration 5 (epoch 2)' in log and 'rollback 1 of at most 1' in log, log[-3000:]
    assert osp.join(work_dir, 'epoch_1.pth') in log and 'lr x 0.5 of the schedule' in log
    want_loss, got_loss = all_losses(reference_one), all_losses(work_dir)
    want_lr = {r['step']: r['lr'] for r in _records(reference_one) if 'lr' in r}
    got_lr = {r['step']: r['lr'] for r in _records(work_dir) if 'lr' in r}
    assert sorted(got_loss) == list(range(1, 10))
    assert {s: got_loss[s] for s in (1, 2, 3)} == {s: want_loss[s] for s in (1, 2, 3)}  # before the NaN
    assert all(math.isfinite(got_loss[s]) for s in range(4, 10))  # finite again after it
    for step in range(4, 10):  # the rest of the schedule at half the lr
        assert got_lr[step] == pytest.approx(0.5 * want_lr[step], rel=1e-6), step
    rollbacks = {r['step']: r['nonfinite_rollbacks'] for r in _records(work_dir) if 'nonfinite_rollbacks' in r}
    assert rollbacks and max(rollbacks.values()) == 1
    assert torch.load(osp.join(work_dir, 'epoch_3.pth'), map_location='cpu',
                      weights_only=True)['message_hub']['runtime_info']['nonfinite_rollbacks'] == 1


@pytest.mark.slow
def test_with_no_rollbacks_left_a_nonfinite_loss_stops_the_run(demo_data, tmp_path):
    config = derived_config(tmp_path, 'no_rollback', SHORT.format(batch=32) + ROLLBACK.format(max_rollbacks=0))
    proc = run('tools/train.py', config, '--work-dir', str(tmp_path / 'run'), check=False, threads=1)
    assert proc.returncode != 0
    assert 'FloatingPointError: non-finite loss at iteration 5 (epoch 2)' in proc.stderr
    assert 'after 0 rollbacks (max_rollbacks=0)' in proc.stderr


def _records(work_dir: str) -> list:
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records
