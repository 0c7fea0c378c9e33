"""Whether Slurm can ever run a job: asked before it is submitted, and read while it waits.

Before: ``tools/slurm_train.sh`` runs ``python -m mae_mm.launch.slurm_request OPTIONS`` with the
sbatch options that decide where the job can run (``-p PARTITION``, ``--ntasks`` = GPUS,
``--cpus-per-task`` = CPUS_PER_TASK, ``--gres=gpu:N --ntasks-per-node=N`` = GPUS_PER_NODE, an
``--array``, SBATCH_ARGS). :func:`check` asks ``sbatch --test-only`` with them: Slurm alone
decides. When it says no, ``sinfo`` gives the partitions and the partition's nodes, and the one
message (exit status 2, nothing submitted) names what was asked, what the largest node has, and
the variable of slurm_train.sh to turn (:func:`shortfalls` only compares those numbers to word
it). One "no" is let through with a warning: a request that fits the partition's nodes while some
of them are down or drained (the job waits until an administrator returns them).

While it waits: squeue's reason of a pending job (``%r``); :func:`waiting_hint` says what to do
about the reasons that do not clear by themselves (``tools/transfer.py --status``).

Torch- and mmengine-free: ``tools/transfer.py --status`` imports it.
"""
import fnmatch
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

# sinfo's node states (%T) in which a node takes no new job until an administrator acts
# (``down*``: not responding); power-saving and reboot states come back by themselves
UNAVAILABLE_STATES = ('down', 'drained', 'draining', 'drain', 'fail', 'failing', 'inval', 'future')
# what sbatch --test-only says when no node can take the job now (too large, or the nodes down)
NO_NODE = 'Requested node configuration is not available'
REFUSED = 'refused before submission'  # how a refusal's message starts


@dataclass(frozen=True)
class Request:
    """The numbers of an sbatch request that decide where it can run (None: not asked)."""

    partition: str
    tasks: int = 1
    cpus_per_task: int = 1
    tasks_per_node: Optional[int] = None
    gpus_per_node: int = 0
    nodes: Optional[int] = None
    account: Optional[str] = None


@dataclass(frozen=True)
class Node:
    """One node of a partition as ``sinfo -N`` shows it."""

    name: str
    cpus: int
    gpus: int
    state: str

    @property
    def unavailable(self) -> bool:
        """Down, drained or failing: it takes no new job until an administrator returns it."""
        return self.state.endswith('*') or re.sub(r'[^a-z_].*', '', self.state.lower()) in UNAVAILABLE_STATES


def gpu_count(gres: str) -> int:
    """The GPUs in a gres string: ``gpu:8``, ``gpu:a100:4(S:0-1),gpu:v100:2`` (6); 0 for ``(null)``."""
    return sum(int(n) for n in re.findall(r'gpu(?::[^:,(]+)?:(\d+)', gres))


def _count(n: int, noun: str) -> str:
    """``1 node``, ``2 nodes``."""
    return f'{n} {noun}' + ('' if n == 1 else 's')


def _int(value: Optional[str]) -> Optional[int]:
    """``value``'s leading number (``--nodes=2-4``: 2), or None."""
    match = re.match(r'\d+', value or '')
    return int(match.group()) if match else None


def parse_request(options: Sequence[str]) -> Request:
    """The :class:`Request` of sbatch ``options`` (``--opt=value`` or ``--opt value``; others ignored)."""
    names = {'-p': 'partition', '--partition': 'partition', '-n': 'ntasks', '--ntasks': 'ntasks',
             '-c': 'cpus', '--cpus-per-task': 'cpus', '--ntasks-per-node': 'per_node', '--gres': 'gres',
             '-N': 'nodes', '--nodes': 'nodes', '-A': 'account', '--account': 'account'}
    seen = {}
    words = list(options)
    for i, word in enumerate(words):
        key, equals, value = word.partition('=')
        if key in names:  # the last one wins, as in sbatch
            seen[names[key]] = value if equals else (words[i + 1] if i + 1 < len(words) else '')
    return Request(partition=seen.get('partition', ''), tasks=_int(seen.get('ntasks')) or 1,
                   cpus_per_task=_int(seen.get('cpus')) or 1, tasks_per_node=_int(seen.get('per_node')),
                   gpus_per_node=gpu_count(seen.get('gres', '')), nodes=_int(seen.get('nodes')),
                   account=seen.get('account'))


def _slurm(*cmd: str) -> Tuple[int, str]:
    """``(exit status, stdout + stderr)`` of a Slurm command; 127 when it is not on PATH, 124
    when it did not answer within 2 minutes."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        return 127, f'{cmd[0]} not found on PATH'
    except subprocess.TimeoutExpired:
        return 124, f'{" ".join(cmd[:2])} did not answer within 120 s'
    return proc.returncode, proc.stdout + proc.stderr


def sbatch_test_only(options: Sequence[str]) -> Tuple[bool, str]:
    """``sbatch --test-only OPTIONS``: whether Slurm would place the job, and what it said when not
    (its lines joined, ``sbatch: error:`` dropped). Submits nothing."""
    code, out = _slurm('sbatch', '--test-only', *options, '--wrap=true')
    said = [re.sub(r'^sbatch: error: ', '', line.strip()) for line in out.splitlines() if line.strip()]
    return code == 0, '; '.join(said)


def partitions() -> List[str]:
    """The partitions ``sinfo`` lists (the default one without its ``*``)."""
    return sorted(set(_slurm('sinfo', '-h', '-o', '%R')[1].split()))


def partition_nodes(partition: str) -> List[Node]:
    """The nodes of ``partition`` (a comma-separated list: of each), whatever their state."""
    code, out = _slurm('sinfo', '-h', '-N', '-p', partition, '-o', '%N|%c|%G|%T')
    nodes = {}
    for line in out.splitlines() if code == 0 else []:
        fields = line.strip().split('|')
        if len(fields) == 4 and fields[1].isdigit():
            nodes[fields[0]] = Node(fields[0], int(fields[1]), gpu_count(fields[2]), fields[3])
    return list(nodes.values())


def shortfalls(request: Request, nodes: List[Node]) -> List[str]:
    """What in ``request`` the partition's ``nodes`` can never hold, each with the value to set."""
    if not nodes:
        return []
    most_cpus, most_gpus = max(n.cpus for n in nodes), max(n.gpus for n in nodes)
    cpus = min(request.cpus_per_task, most_cpus)  # the tasks below as if CPUS_PER_TASK were fixed first
    out = []
    if request.cpus_per_task > most_cpus:
        out.append(f'CPUS_PER_TASK={request.cpus_per_task} is more than the {most_cpus} CPUs of the largest '
                   f'node: set CPUS_PER_TASK={most_cpus} or less')
    per_node = request.tasks_per_node
    if per_node and per_node * cpus > most_cpus:
        out.append(f'{per_node} tasks per node (GPUS_PER_NODE) x {_count(cpus, "CPU")} = {per_node * cpus} CPUs '
                   f'per node, more than the largest node\'s {most_cpus}: set '
                   f'CPUS_PER_TASK={max(most_cpus // per_node, 1)} or less')
    if request.gpus_per_node > most_gpus:
        out.append(f'GPUS_PER_NODE={request.gpus_per_node} is more than the {most_gpus} GPUs of the largest node: '
                   f'set GPUS_PER_NODE={most_gpus}' + (' (no GPUs: training runs on gloo)' if most_gpus == 0 else ''))
    if per_node:
        needed = -(-request.tasks // per_node)
        if needed > len(nodes):
            out.append(f'GPUS={request.tasks} tasks at {per_node} per node need {needed} nodes, the partition '
                       f'has {len(nodes)}: set GPUS={len(nodes) * per_node} or less')
    else:
        room = sum(n.cpus // cpus for n in nodes)
        if request.tasks > room:
            out.append(f'GPUS={request.tasks} tasks x {_count(cpus, "CPU")} = {request.tasks * cpus} CPUs, more than '
                       f'the {sum(n.cpus for n in nodes)} of the partition\'s {_count(len(nodes), "node")}: set '
                       f'GPUS={room} or less (or a smaller CPUS_PER_TASK)')
    if request.nodes and request.nodes > len(nodes):
        out.append(f'--nodes={request.nodes} (SBATCH_ARGS) is more than the partition\'s '
                   f'{_count(len(nodes), "node")}')
    return out


def describe(request: Request, nodes: List[Node]) -> str:
    """What was asked and what the partition has, as two lines of a message."""
    asked = (f'asked: {_count(request.tasks, "task")} (GPUS) of {_count(request.cpus_per_task, "CPU")} each '
             f'(CPUS_PER_TASK), {_count(request.gpus_per_node, "GPU")} per node (GPUS_PER_NODE)')
    asked += f', {_count(request.tasks_per_node, "task")} per node' if request.tasks_per_node else ''
    asked += f', {_count(request.nodes, "node")}' if request.nodes else ''
    asked += f', account {request.account}' if request.account else ''
    if not nodes:
        return asked + f'\n  partition {request.partition}: sinfo lists no node'
    most_cpus, most_gpus = max(n.cpus for n in nodes), max(n.gpus for n in nodes)
    has = (f'partition {request.partition}: {_count(len(nodes), "node")}, {sum(n.cpus for n in nodes)} CPUs in all; '
           f'the largest has {_count(most_cpus, "CPU")} and {_count(most_gpus, "GPU")}')
    down = [f'{n.name} {n.state}' for n in nodes if n.unavailable]
    return f'{asked}\n  {has}' + (f'; down or drained: {", ".join(down)}' if down else '')


def check(options: Sequence[str]) -> Tuple[str, str]:
    """Whether the job of sbatch ``options`` can ever run: ``('ok', '')``, ``('wait', warning)``
    (it fits, but nodes it needs are down or drained) or ``('refuse', message)``."""
    placed, said = sbatch_test_only(options)
    if placed:
        return 'ok', ''
    request = parse_request(options)
    known = partitions()
    missing = [p for p in request.partition.split(',') if p and p not in known]
    if missing and known:
        return 'refuse', (f'{REFUSED}: partition {", ".join(missing)} does not exist (sinfo lists: '
                          f'{", ".join(known)}): give one of these as PARTITION (sbatch --test-only: {said})')
    nodes = partition_nodes(request.partition)
    fixes = shortfalls(request, nodes)
    if not fixes and NO_NODE in said and any(n.unavailable for n in nodes):
        return 'wait', (f'warning: sbatch --test-only cannot place the job now ({said}), but it fits the nodes of '
                        f'partition {request.partition}: it waits until an administrator returns them '
                        f'(sinfo -R -p {request.partition})\n  {describe(request, nodes)}')
    head = f'{REFUSED}: Slurm can never run this job in partition {request.partition}'
    return 'refuse', (f'{head} (sbatch --test-only: {said})\n  {describe(request, nodes)}'
                      + ''.join(f'\n  {fix}' for fix in fixes))


# squeue's reasons (%r) after which a pending job does not start by itself, and what to do; the first
# pattern that matches wins
WAITING_HINTS = (
    (('PartitionConfig', 'PartitionNodeLimit'),
     "will not start by itself: the request exceeds the partition's limits; scancel {job} and resubmit with fewer "
     'CPUs/GPUs (CPUS_PER_TASK, GPUS_PER_NODE, GPUS or --gpus)'),
    (('PartitionTimeLimit',),
     "will not start by itself: its time limit exceeds the partition's; scancel {job} and resubmit with a shorter "
     'TIME'),
    (('BadConstraints',),
     'will not start by itself: no node has what it asks for; scancel {job} and resubmit without those constraints'),
    (('InvalidAccount',),
     'will not start by itself: its account does not exist or may not use the partition; scancel {job} and '
     'resubmit with a valid -A in SBATCH_ARGS'),
    (('InvalidQOS',),
     'will not start by itself: its QOS does not exist or is not allowed; scancel {job} and resubmit with a valid '
     '--qos in SBATCH_ARGS'),
    (('QOSMax*PerJobLimit', 'AssocMax*PerJobLimit', 'AssocMaxWall*'),
     'will not start by itself: the request exceeds a per-job limit of its QOS or account; scancel {job} and '
     'resubmit smaller'),
    (('AssocMaxJobsLimit', 'AssocGrp*', 'AssocMax*', 'QOSMax*PerUserLimit', 'QOSGrp*'),
     'may never start: a limit of its account or QOS holds it until your other jobs end, for good if it alone '
     'exceeds the limit (sacctmgr show assoc user=$USER); scancel {job} and resubmit smaller'),
    (('JobHeldUser', 'JobHeldAdmin'), 'held: scontrol release {job}'),
    (('DependencyNeverSatisfied',), 'will not start: a job it waits for ended without success; scancel {job}'),
)
# squeue's reason when the nodes a job needs are down or drained (the second: its long form)
NODES_UNAVAILABLE = ('ReqNodeNotAvail*', 'Nodes required for job are DOWN*')


def waits_on_nodes(reason: Optional[str]) -> bool:
    """Whether ``reason`` says the nodes the job needs are unavailable (see :func:`waiting_hint`)."""
    return any(fnmatch.fnmatchcase(reason or '', p) for p in NODES_UNAVAILABLE)


def waiting_hint(reason: Optional[str], job_id: str, partition_down: bool = False) -> Optional[str]:
    """What to do about a pending job that waits for ``reason`` (squeue's ``%r``), or None when
    the reason clears by itself (``Priority``, ``Resources``, ``Dependency``, ``BeginTime``...).
    ``partition_down``: every node of its partition is down or drained (``ReqNodeNotAvail`` is
    flagged only then)."""
    reason = reason or ''
    if partition_down and waits_on_nodes(reason):
        return ('will not start by itself: every node of its partition is down or drained; it starts once an '
                f'administrator returns one (sinfo -R), or scancel {job_id}')
    for patterns, hint in WAITING_HINTS:
        if any(fnmatch.fnmatchcase(reason, p) for p in patterns):
            return hint.format(job=job_id)
    return None


def all_nodes_down(partition: str) -> bool:
    """Whether every node of ``partition`` is down or drained (False when sinfo lists none)."""
    nodes = partition_nodes(partition)
    return bool(nodes) and all(n.unavailable for n in nodes)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m mae_mm.launch.slurm_request SBATCH_OPTIONS``: 0 when the job can run (a warning
    on stderr when it must wait for nodes to return), 2 with the message when it never can."""
    verdict, message = check(sys.argv[1:] if argv is None else argv)
    if message:
        print(f'slurm_train.sh: {message}', file=sys.stderr)
    return 2 if verdict == 'refuse' else 0


if __name__ == '__main__':
    sys.exit(main())
