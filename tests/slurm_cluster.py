"""A real single-node Slurm cluster for the tests: Debian's slurm-wlm and munge, on this host.

:class:`SlurmCluster` installs the packages when they are missing (as root, with apt-get),
writes a ``slurm.conf`` for this host into a directory of its own (state, spool, pid and log
files there too; ports picked free, so two test runs do not collide), starts ``munged`` (unless
one already runs), ``slurmctld`` and ``slurmd``, and waits until ``sinfo`` shows the node idle.
:meth:`SlurmCluster.stop` ends the daemons it started by the pids in their pid files.

Jobs are followed with ``squeue`` and ``scontrol show job``: there is no slurmdbd, hence no
``sacct``. The session fixture ``slurm_cluster`` (registered by tests/conftest.py) starts one
cluster for the whole test session and exports ``SLURM_CONF`` while it runs.
"""
import os
import os.path as osp
import shutil
import signal
import socket
import subprocess
import time
from typing import Dict, Optional

import pytest

PACKAGES = ('slurm-wlm', 'munge')
DAEMONS = ('slurmctld', 'slurmd', 'munged', 'sbatch')
MUNGE_SOCKET = '/run/munge/munge.socket.2'
ENDED_STATES = ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT')  # a job in one of these will not run again


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(*cmd, env=None, check=True, timeout=60) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode:
        raise RuntimeError(f'{" ".join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}')
    return proc


def ensure_slurm_installed() -> None:
    """Installs slurm-wlm and munge with apt-get when a daemon is missing (needs root)."""
    if all(shutil.which(d) for d in DAEMONS):
        return
    if os.geteuid() != 0:
        raise RuntimeError(f'Slurm is not installed and this is not root: apt-get install {" ".join(PACKAGES)}')
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    _run('apt-get', 'update', '-qq', env=env, timeout=600)
    _run('apt-get', 'install', '-y', '-qq', *PACKAGES, env=env, timeout=900)


def _munge_works() -> bool:
    if not shutil.which('munge'):
        return False
    encoded = subprocess.run(['munge', '-n'], capture_output=True, timeout=10)
    if encoded.returncode:
        return False
    return subprocess.run(['unmunge'], input=encoded.stdout, capture_output=True, timeout=10).returncode == 0


def _kill_pidfile(path: str, timeout: float = 15.0) -> None:
    """Sends SIGTERM to the pid in ``path``, then SIGKILL if it lingers past ``timeout``."""
    if not osp.exists(path):
        return
    try:
        pid = int(open(path).read().strip())
    except ValueError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # a child of this process: reap it, or it stays a zombie that os.kill still finds
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class SlurmCluster:
    """One controller and one compute node on this host (see the module docstring).

    ``REQUEUE_GRACE``: seconds a requeued job waits before :meth:`release_requeued` starts it.

    Set up to preempt as production clusters do: the default partition ``partition`` (priority
    tier 1, ``PreemptMode=REQUEUE``, ``GraceTime=PREEMPT_GRACE``) and ``high_partition`` (tier 10)
    over the same node (``PreemptType=preempt/partition_prio``). A job submitted to the high
    partition that needs the node's CPUs preempts the jobs of the default one: Slurm sends
    SIGTERM to their step tasks (not to the batch shell) and, if they still run after the grace
    time, signals everything and requeues them. ``KillWait`` (between a cancel's SIGTERM and its
    SIGKILL) is Slurm's default, stated: ``KILL_WAIT``.

    Args:
        root (str): A directory of its own for the config, state, spool, pid and log files.
        partition (str): The default (preemptable) partition's name.
        high_partition (str): The name of the partition whose jobs preempt the default one's.
    """

    REQUEUE_GRACE = 3.0
    PREEMPT_GRACE = 20
    KILL_WAIT = 30

    def __init__(self, root: str, partition: str = 'debug', high_partition: str = 'high'):
        self.root = osp.abspath(root)
        self.partition = partition
        self.high_partition = high_partition
        self.conf = osp.join(self.root, 'slurm.conf')
        self.hostname = socket.gethostname()
        self._started_munged = False
        self._pending_since: Dict[tuple, float] = {}  # (job id, restarts) -> first seen waiting in BeginTime

    @property
    def env(self) -> Dict[str, str]:
        """This process's environment with ``SLURM_CONF`` pointing at the cluster."""
        return dict(os.environ, SLURM_CONF=self.conf)

    def write_conf(self) -> None:
        os.makedirs(osp.join(self.root, 'state'), exist_ok=True)
        os.makedirs(osp.join(self.root, 'spool'), exist_ok=True)
        # slurmd -C prints this node as Slurm sees it (CPUs, sockets, RealMemory)
        node = _run('slurmd', '-C').stdout.splitlines()[0].strip()
        r = self.root
        lines = [
            'ClusterName=maemm',
            f'SlurmctldHost={self.hostname}',
            'AuthType=auth/munge',
            'SlurmUser=root',
            'SlurmdUser=root',
            'ProctrackType=proctrack/linuxproc',
            'TaskPlugin=task/none',
            'MpiDefault=none',
            'SelectType=select/cons_tres',
            'SelectTypeParameters=CR_Core',
            'ReturnToService=2',
            'JobRequeue=1',
            'SchedulerType=sched/backfill',
            'PreemptType=preempt/partition_prio',
            'PreemptMode=REQUEUE',
            f'KillWait={self.KILL_WAIT}',
            'AccountingStorageType=accounting_storage/none',
            'JobCompType=jobcomp/none',
            'MinJobAge=600',  # finished jobs stay visible to scontrol for 10 minutes
            f'StateSaveLocation={r}/state',
            f'SlurmdSpoolDir={r}/spool',
            f'SlurmctldPidFile={r}/slurmctld.pid',
            f'SlurmdPidFile={r}/slurmd.pid',
            f'SlurmctldLogFile={r}/slurmctld.log',
            f'SlurmdLogFile={r}/slurmd.log',
            f'SlurmctldPort={_free_port()}',
            f'SlurmdPort={_free_port()}',
            f'{node} State=UNKNOWN',
            f'PartitionName={self.partition} Nodes={self.hostname} Default=YES MaxTime=INFINITE State=UP '
            f'PriorityTier=1 PreemptMode=REQUEUE GraceTime={self.PREEMPT_GRACE}',
            f'PartitionName={self.high_partition} Nodes={self.hostname} MaxTime=INFINITE State=UP PriorityTier=10 '
            'PreemptMode=OFF',
        ]
        with open(self.conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')

    def start(self, timeout: float = 60.0) -> 'SlurmCluster':
        ensure_slurm_installed()
        if not _munge_works():
            os.makedirs('/run/munge', exist_ok=True)
            shutil.chown('/run/munge', 'munge', 'munge')
            _run('su', '-s', '/bin/sh', 'munge', '-c', 'munged')
            self._started_munged = True
            deadline = time.time() + 15
            while not _munge_works():
                if time.time() > deadline:
                    raise RuntimeError('munged started but munge -n | unmunge still fails')
                time.sleep(0.2)
        self.write_conf()
        _run('slurmctld', '-f', self.conf, env=self.env)
        _run('slurmd', '-f', self.conf, env=self.env)
        deadline = time.time() + timeout
        state = ''
        while time.time() < deadline:
            state = _run('sinfo', '-h', '-o', '%T', env=self.env, check=False).stdout.strip()
            if state == 'idle':
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f'the Slurm node is not idle after {timeout:.0f} s (sinfo: {state!r}); logs in {self.root}')

    def stop(self) -> None:
        _kill_pidfile(osp.join(self.root, 'slurmd.pid'))
        _kill_pidfile(osp.join(self.root, 'slurmctld.pid'))
        if self._started_munged:
            _kill_pidfile('/run/munge/munged.pid')

    # -- following jobs (no accounting database, so squeue / scontrol) ---------------------
    def _show(self, kind: str, name: str) -> Dict[str, str]:
        """``scontrol -o show KIND NAME`` as a dict of its ``key=value`` fields; empty when unknown."""
        proc = _run('scontrol', '-o', 'show', kind, name, env=self.env, check=False)
        return dict(token.split('=', 1) for token in proc.stdout.split() if '=' in token)

    def job(self, job_id: str) -> Dict[str, str]:
        """``scontrol show job`` as a dict (JobState, Restarts, ExitCode...); empty once forgotten."""
        return self._show('job', str(job_id))

    def node(self) -> Dict[str, str]:
        """``scontrol show node`` of the one node as a dict (State, CPUAlloc...)."""
        return self._show('node', self.hostname)

    def wait_for(self, job_id: str, states=ENDED_STATES,
                 timeout: float = 300.0, release_requeued: bool = True) -> Dict[str, str]:
        """Polls the job until its state is one of ``states``; returns its fields.

        A requeued job waits about a minute in ``BeginTime`` before it runs again; with
        ``release_requeued`` it is released at once (``scontrol update StartTime=now``).
        """
        deadline = time.time() + timeout
        fields: Dict[str, str] = {}
        while time.time() < deadline:
            fields = self.release_requeued(job_id) if release_requeued else self.job(job_id)
            if fields.get('JobState') in states:
                return fields
            time.sleep(0.5)
        raise TimeoutError(f'job {job_id} not in {states} after {timeout:.0f} s: {fields}')

    def release_requeued(self, job_id: str) -> Dict[str, str]:
        """Starts a requeued job that waits in ``BeginTime`` (about a minute otherwise) now, once
        it has waited ``REQUEUE_GRACE`` seconds and the node is free; returns the job's fields as
        :meth:`job` does.

        Released in the same second as its requeue (seen in CI: the release came 0.07 s after it),
        slurmctld allocates the job again at once, while slurmd still holds the credential it
        revoked when it killed the previous run (revocation times have one-second resolution): the
        launch is refused ('Job credential revoked') and the job ends for good. The minute of
        ``BeginTime`` keeps this from happening on a real cluster."""
        fields = self.job(job_id)
        if fields.get('JobState') == 'PENDING' and fields.get('Reason') == 'BeginTime':
            seen = self._pending_since.setdefault((job_id, fields.get('Restarts')), time.time())
            node = self.node()
            if (time.time() - seen >= self.REQUEUE_GRACE and node.get('CPUAlloc') == '0'
                    and 'COMPLETING' not in node.get('State', '')):
                _run('scontrol', 'update', f'JobId={job_id}', 'StartTime=now', env=self.env, check=False)
        return fields

    def logs(self) -> str:
        """The tail of slurmctld's and slurmd's logs, for a failure message."""
        tails = []
        for name in ('slurmctld.log', 'slurmd.log'):
            path = osp.join(self.root, name)
            if osp.exists(path):
                with open(path) as f:
                    tails.append(f'--- {name}\n' + ''.join(f.readlines()[-15:]))
        return '\n'.join(tails)

    def sbatch(self, *args: str, cwd: Optional[str] = None) -> str:
        """Submits with ``sbatch --parsable ARGS``; returns the job id."""
        proc = subprocess.run(['sbatch', '--parsable', *args], env=self.env, cwd=cwd, capture_output=True,
                              text=True, timeout=60)
        if proc.returncode:
            raise RuntimeError(f'sbatch {" ".join(args)} failed: {proc.stderr}')
        return proc.stdout.strip().split(';')[0]


@pytest.fixture(scope='session')
def slurm_cluster(tmp_path_factory):
    """A started :class:`SlurmCluster`, with ``SLURM_CONF`` exported while the session runs."""
    cluster = SlurmCluster(str(tmp_path_factory.mktemp('slurm'))).start()
    before = os.environ.get('SLURM_CONF')
    os.environ['SLURM_CONF'] = cluster.conf
    try:
        yield cluster
    finally:
        cluster.stop()
        if before is None:
            os.environ.pop('SLURM_CONF', None)
        else:
            os.environ['SLURM_CONF'] = before
