"""A distributed run that lost a peer: recognise the error, say what was lost, exit with LOST_PEER.

When another node dies (power, network, its agent killed) the ranks left wait in their next
collective: gloo raises at once when the peer's sockets close ("Connection closed by peer",
"Connection reset by peer"), or after ``env_cfg.dist_cfg.timeout`` seconds when the peer just
stops answering ("Timed out waiting Nms for recv operation"); NCCL raises ``DistBackendError``
(its watchdog's timeout, a remote error, an aborted communicator). :func:`lost_peer_cause` tells
such an error from every other one, and :func:`report_lost_peer` writes the one message that
ends the process: what was lost, in which iteration, the newest whole checkpoint in the work dir
and how to resume. ``tools/dist_train.sh`` reads the message from the file named by
``MAE_MM_LOST_PEER_FILE`` (torchrun reports any failed worker as 1) to exit with
:data:`~mae_mm.exit_codes.LOST_PEER` itself, or restarts the run from that checkpoint.
"""
import os
import re
import sys
import traceback
from typing import Optional

from mae_mm.exit_codes import LOST_PEER

LOST_PEER_FILE_ENV = 'MAE_MM_LOST_PEER_FILE'

# gloo's messages (third_party/gloo/gloo/transport/tcp/pair.cc, unbound_buffer.cc) when a peer is gone
_GLOO_LOST = re.compile(r'Connection closed by peer|Connection reset by peer|Broken pipe|'
                        r'Timed out waiting \d+ ?ms for \w+ operation|Application timeout caused pair closure')
# NCCL's, from DistBackendError: the watchdog's timeout, a remote rank gone, the communicator aborted
_NCCL_LOST = re.compile(r'[Ww]atchdog|[Tt]imed? ?out|ncclRemoteError|remote process|[Aa]borted|'
                        r'Connection (closed|reset)')
_ADDRESS = re.compile(r'\[([^\]\s]+)\]:(\d+)')
_GLOO_TIMEOUT = re.compile(r'Timed out waiting (\d+) ?ms for (\w+) operation')
_NCCL_TIMEOUT = re.compile(r'OpType=(\w+).*?Timeout\(ms\)=(\d+)')
_SOURCE = re.compile(r'^\[[^\]]*\.(cc|cpp|h):\d+\]\s*')  # gloo's "[.../pair.cc:561] "
_COLLECTIVES = ('all_reduce', 'barrier', 'broadcast', 'broadcast_object_list', 'all_gather',
                'all_gather_object', 'gather', 'gather_object', 'reduce', 'scatter', 'reduce_scatter',
                'monitored_barrier', 'send', 'recv')


def _chain(err: BaseException):
    """``err`` and the exceptions it was raised from or during, innermost last."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def lost_peer_cause(err: BaseException) -> Optional[BaseException]:
    """The exception in ``err``'s chain that says a peer of the process group is gone, or None
    for any other error (which the caller lets through unchanged)."""
    import torch.distributed as dist

    for exc in _chain(err):
        if not isinstance(exc, RuntimeError):
            continue
        text = str(exc)
        if isinstance(exc, dist.DistNetworkError) or _GLOO_LOST.search(text):
            return exc
        if isinstance(exc, dist.DistBackendError) and _NCCL_LOST.search(text):
            return exc
    return None


def _collective(err: BaseException) -> Optional[str]:
    """The torch.distributed function the error came out of (innermost frame), if any."""
    names = [frame.name for frame in traceback.extract_tb(err.__traceback__)
             if frame.filename.replace(os.sep, '/').endswith('torch/distributed/distributed_c10d.py')]
    names = [n for n in names if n in _COLLECTIVES]
    if names:
        return names[-1]
    if any(frame.name in ('backward', 'run_backward', '_engine_run_backward')
           for frame in traceback.extract_tb(err.__traceback__)):
        return "DDP's gradient all-reduce (backward)"
    return None


def describe_loss(err: BaseException) -> str:
    """What was lost, in words, from a recognised error: the peer's address and the collective,
    or the timeout that expired."""
    text = str(err)
    where = _collective(err)
    timeout = _GLOO_TIMEOUT.search(text)
    nccl = _NCCL_TIMEOUT.search(text)
    address = _ADDRESS.search(text)
    if timeout:
        what = (f'a peer stopped answering: no {timeout.group(2)} within {int(timeout.group(1)) / 1000:g} s '
                f'(env_cfg.dist_cfg.timeout)')
    elif nccl:
        what = (f'a peer stopped answering: NCCL {nccl.group(1)} past its {int(nccl.group(2)) / 1000:g} s timeout '
                f'(env_cfg.dist_cfg.timeout)')
    elif address:
        what = f'the peer at {address.group(1)}:{address.group(2)} is gone'
    else:
        what = f'a peer is gone ({type(err).__name__})'
    if where:
        what += f' in {where}'
    return f'{what} (the backend: "{_first_sentence(err)}")'


def _first_sentence(err: BaseException) -> str:
    """The error's own words, short: its first sentence without gloo's source location."""
    text = _SOURCE.sub('', str(err).strip()) or type(err).__name__
    return text.splitlines()[0].split('. ')[0][:300]


def lost_peer_message(err: BaseException, runner) -> str:
    """The one message a process that lost a peer ends with: what was lost, this process's rank,
    the iteration, the newest whole checkpoint in the work dir and how to resume."""
    from mmengine.dist import get_rank, get_world_size

    from mae_mm.engine.resume import checkpoint_iteration, find_resumable_checkpoint

    done = runner.iter
    where = (f'in iteration {done + 1} of {runner.max_iters} (epoch {runner.epoch + 1}), after '
             f'iteration {done}' if done < runner.max_iters else f'after the last iteration ({done})')
    ckpt = find_resumable_checkpoint(runner.work_dir)
    if ckpt is None:
        resume = (f'no whole checkpoint in {runner.work_dir} yet: --resume starts from scratch')
    else:
        resume = (f'newest whole checkpoint {ckpt} (iteration {checkpoint_iteration(ckpt)}): --resume '
                  'continues from it')
    return (f'lost a peer of the distributed run: {describe_loss(err)}; rank {get_rank()} of {get_world_size()} '
            f'stopped {where}; {resume} (tools/dist_train.sh with MAX_RESTARTS=N restarts from it by itself); '
            f'exiting with {LOST_PEER}')


def report_lost_peer(err: BaseException, runner) -> int:
    """Prints the message of :func:`lost_peer_message` about ``err``'s :func:`lost_peer_cause` on
    stderr, on every rank (mmengine's logger shows only the errors of ranks other than 0, in its
    error format), and writes it into the file that ``MAE_MM_LOST_PEER_FILE`` names, for the
    launcher; returns :data:`LOST_PEER`."""
    from mae_mm.engine.atomic_backend import write_atomically

    message = lost_peer_message(lost_peer_cause(err) or err, runner)
    # the failed iteration's frames hold the data loader's iterator: cleared now, it shuts its
    # worker processes down; kept (the caller's reference to err) until interpreter exit, a
    # worker left running made multiprocessing's exit handler wait on it (seen: 1 exit in 2
    # hung until torchrun's SIGKILL)
    for exc in _chain(err):
        traceback.clear_frames(exc.__traceback__)
    print(f'tools/train.py: {message}', file=sys.stderr, flush=True)
    report = os.environ.get(LOST_PEER_FILE_ENV)
    if report:
        write_atomically((message + '\n').encode(), report)
    return LOST_PEER
