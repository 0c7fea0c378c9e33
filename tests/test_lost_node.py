"""A lost node: the job left ends within env_cfg.dist_cfg.timeout naming what was lost and the
newest checkpoint (exit LOST_PEER), and with MAX_RESTARTS it continues, once the node is back,
exactly as an uninterrupted run from that checkpoint.

Two "nodes" on localhost: two ``tools/dist_train.sh CONFIG 1`` launches with NNODES=2 and
NODE_RANK 0 / 1, one torchrun agent and one training process each, batch 16 per process, 96
images, 3 epochs of 3 iterations. PauseAtIterHook holds both processes at the start of iteration
5 (after epoch 1's checkpoint); the test then takes node 1 away, as a lost machine goes: SIGKILL
to its launcher's process group and to its training process's (torchrun starts each worker in a
session of its own), or SIGSTOP to both (a machine that stops answering without closing its
connections); then node 0's process goes on into iteration 5 and finds its peer gone.
"""
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from mae_mm.exit_codes import LOST_PEER
from reliability_utils import HELPERS, ROOT, derived_config, free_port, short_schedule

TIMEOUT = 10  # env_cfg.dist_cfg.timeout of these runs, seconds

SHORT = f"""
train_cfg = dict(max_epochs=3, val_interval=10)
train_dataloader = dict(batch_size=16, num_workers=1, persistent_workers=False, dataset=dict(indices=96))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1))
log_processor = dict(window_size=1)
env_cfg = dict(dist_cfg=dict(timeout={TIMEOUT}))
""" + short_schedule(3)


class Node:
    """One ``tools/dist_train.sh CONFIG 1`` launch as node ``rank`` of 2, in a session of its own,
    its output in ``log``."""

    def __init__(self, rank: int, config: str, work_dir: str, port: int, log: str, **env):
        self.rank, self.log = rank, log
        env = dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{HELPERS}', PYTHON=sys.executable,
                   PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1', NNODES='2', NODE_RANK=str(rank),
                   MASTER_ADDR='127.0.0.1', PORT=str(port), **env)
        with open(log, 'a') as out:
            self.proc = subprocess.Popen(['bash', 'tools/dist_train.sh', config, '1', '--work-dir', work_dir],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.workers = set()

    def output(self) -> str:
        with open(self.log) as f:
            return f.read()

    def owns(self, pid: int) -> bool:
        """Whether process ``pid`` descends from this launch (worker -> torchrun -> bash)."""
        while pid > 1:
            if pid == self.proc.pid:
                return True
            try:
                with open(f'/proc/{pid}/stat') as f:
                    pid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                return False
        return False

    def signal(self, sig) -> None:
        """``sig`` to the launcher's process group and to each known worker's."""
        for group in (self.proc.pid, *self.workers):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                pass


def paused_worker(markers: str, at_iter: int, node: Node, others, timeout: float = 120.0) -> int:
    """The pid of ``node``'s training process once it waits at iteration ``at_iter``."""
    deadline = time.time() + timeout
    while True:
        for name in os.listdir(markers):
            if name.startswith(f'paused_{at_iter}_rank') and not name.endswith('.tmp'):
                pid = int(open(osp.join(markers, name)).read())
                if node.owns(pid):
                    node.workers.add(pid)
                    return pid
        for launch in (node, *others):
            assert launch.proc.poll() is None, (f'node {launch.rank} ended ({launch.proc.returncode}) before '
                                                f'iteration {at_iter}:\n{launch.output()[-3000:]}')
        assert time.time() < deadline, f'node {node.rank} not at iteration {at_iter} after {timeout:.0f} s'
        time.sleep(0.1)


def wait_for_text(node: Node, text: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while text not in node.output():
        assert node.proc.poll() is None, f'node {node.rank} ended ({node.proc.returncode}):\n{node.output()[-3000:]}'
        assert time.time() < deadline, f'no {text!r} from node {node.rank} after {timeout} s:\n{node.output()[-3000:]}'
        time.sleep(0.2)


def final_weights(work_dir: str) -> dict:
    return torch.load(osp.join(work_dir, 'epoch_3.pth'), map_location='cpu', weights_only=True)['state_dict']


def start_two_nodes(tmp_path, name: str, **env):
    markers, work_dir = str(tmp_path / 'markers'), str(tmp_path / name)
    os.makedirs(markers, exist_ok=True)
    config = derived_config(tmp_path, name, SHORT, extra_hooks=[
        dict(type='PauseAtIterHook', at_iters=[5], marker_dir=markers, timeout=300)])
    port = free_port()
    nodes = [Node(rank, config, work_dir, port, str(tmp_path / f'{name}_node{rank}.log'), **env) for rank in (0, 1)]
    for node in nodes:
        paused_worker(markers, 5, node, nodes)
    return nodes, markers, work_dir, config, port


@pytest.mark.slow
@pytest.mark.parametrize('fault', ['killed', 'stopped'])
def test_a_lost_node_ends_the_job_naming_the_loss_and_the_checkpoint(demo_data, tmp_path, fault):
    nodes, markers, work_dir, _, _ = start_two_nodes(tmp_path, 'run')
    survivor, lost = nodes
    try:
        lost.signal(signal.SIGKILL if fault == 'killed' else signal.SIGSTOP)
        start = time.time()
        open(osp.join(markers, 'release_5'), 'w').close()
        rc = survivor.proc.wait(timeout=TIMEOUT + 60)
        took = time.time() - start
    finally:
        for node in nodes:
            node.signal(signal.SIGKILL)
    log = survivor.output()
    assert rc == LOST_PEER, log[-4000:]
    checkpoint = osp.join(work_dir, 'epoch_1.pth')
    assert f'newest whole checkpoint {checkpoint} (iteration 3): --resume continues from it' in log, log[-4000:]
    assert 'rank 0 of 2 stopped in iteration 5 of 9 (epoch 2), after iteration 4' in log, log[-4000:]
    assert log.count('lost a peer of the distributed run') == 2, log[-4000:]  # the process's line, the launcher's
    assert '[dist_train] node 0 of 2: ' in log and '(restarts: MAX_RESTARTS=0, none left)' in log, log[-4000:]
    if fault == 'killed':  # the closed connection is noticed at once
        assert 'is gone in ' in log and took < TIMEOUT, (took, log[-4000:])
    else:  # only the timeout ends the wait
        assert f'a peer stopped answering: no recv within {TIMEOUT} s' in log, log[-4000:]
        assert TIMEOUT <= took < TIMEOUT + 30, took


@pytest.mark.slow
def test_with_restarts_a_lost_node_started_again_resumes_exactly(demo_data, tmp_path):
    nodes, markers, work_dir, config, port = start_two_nodes(tmp_path, 'run', MAX_RESTARTS='1')
    survivor, lost = nodes
    try:
        lost.signal(signal.SIGKILL)
        open(osp.join(markers, 'release_5'), 'w').close()
        wait_for_text(survivor, 'lost a peer of the distributed run', timeout=TIMEOUT + 60)
        # the cluster starts the lost node again: the same command
        back = Node(1, config, work_dir, port, str(tmp_path / 'run_node1_again.log'), MAX_RESTARTS='1')
        nodes.append(back)
        assert survivor.proc.wait(timeout=300) == 0, survivor.output()[-4000:]
        assert back.proc.wait(timeout=60) == 0, back.output()[-4000:]
    finally:
        for node in nodes:
            node.signal(signal.SIGKILL)
    assert 'newest whole checkpoint' in survivor.output() and 'epoch_1.pth' in survivor.output()
    # uninterrupted from the same checkpoint: 2 processes on one node (bit-identical to the two-node
    # layout: the same 2 ranks, gloo's 2-rank all-reduce)
    reference = str(tmp_path / 'reference')
    os.makedirs(reference)
    shutil.copy(osp.join(work_dir, 'epoch_1.pth'), reference)
    env = dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{HELPERS}', PYTHON=sys.executable,
               OMP_NUM_THREADS='1', PORT=str(free_port()))
    proc = subprocess.run(['bash', 'tools/dist_train.sh', derived_config(tmp_path, 'short', SHORT), '2',
                           '--work-dir', reference, '--resume'], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ref = final_weights(reference)
    for key, value in final_weights(work_dir).items():
        assert torch.equal(value, ref[key]), key
