"""The isolated process that runs gpu_check's rows, and the parent's handle on it.

The parent sends one JSON request a line on the worker's stdin (``{"row": name, "earlier": {row: its
parts}}``); the worker answers on its stdout with lines prefixed by :data:`MARK`: ``env`` once at
start, a ``part`` per part as the row yields it, ``done`` at the row's end. Everything else the
rows print goes to the log. The worker runs in its own process group, so that killing it at a cap
takes its DataLoader workers along.

    python -m mae_mm.benchmark.gpu_check.worker --device cuda --out DIR [--smoke]
"""
import argparse
import datetime
import json
import os
import platform
import selectors
import signal
import subprocess
import sys
import time
from typing import IO, Optional

from .. import ROOT
from .parts import Context
from .rows import BY_NAME

MARK = '@@gpu_check '  # prefix of the worker's messages on its stdout; everything else is log


def environment(device: str) -> dict:
    """Device, versions and date, as the table's header shows them."""
    from importlib import metadata

    import torch
    env = dict(date=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
               python=platform.python_version(), host_cpus=os.cpu_count(), device=device)
    if device.startswith('cuda'):
        props = torch.cuda.get_device_properties(0)
        env['device'] = f'{props.name}, {props.total_memory / 2 ** 30:.0f} GiB, sm_{props.major}{props.minor}'
    else:
        env['device'] = f'CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)'
    env['torch_cuda'] = torch.version.cuda
    for package in ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmdet', 'mmsegmentation', 'mmpretrain', 'mae_mm',
                    'timm', 'transformers'):
        try:
            env[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            env[package] = None
    return env


def serve(device: str, smoke: bool, out: str) -> None:
    """Runs the rows the parent asks for, until its stdin closes."""
    from mae_mm.runtime import setup_runtime
    setup_runtime()
    channel = sys.stdout
    sys.stdout = sys.stderr  # everything the rows print goes to the log; messages keep the pipe

    def send(kind, payload):
        channel.write(MARK + json.dumps(dict(kind=kind, **payload), default=str) + '\n')
        channel.flush()

    import torch
    if device.startswith('cuda') and not torch.cuda.is_available():
        send('env', dict(env=environment('cpu'), error='torch sees no GPU (torch.cuda.is_available() is False): '
                                                        'nothing to check; --smoke runs the rows on the CPU'))
        return
    send('env', dict(env=environment(device)))
    for line in sys.stdin:
        request = json.loads(line)
        ctx = Context(device=device, smoke=smoke, out=out, earlier=request.get('earlier', {}))
        row = BY_NAME[request['row']]
        print(f'== row {row.name}: {row.title}', flush=True)
        try:
            for found in row.run(ctx):
                print(f'-- {found["summary"]}', flush=True)
                send('part', dict(part=found))
            send('done', {})
        except Exception as err:  # a row's own setup failed (its parts catch their own errors)
            send('done', dict(error=f'{type(err).__name__}: {err}'))
        sys.stderr.flush()


class WorkerProcess:
    """The parent's handle on a worker: requests in, messages out, the log, the kill."""

    def __init__(self, device: str, smoke: bool, out: str, log: IO[str]):
        cmd = [sys.executable, '-m', 'mae_mm.benchmark.gpu_check.worker', '--device', device, '--out', out]
        cmd += ['--smoke'] * smoke
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                     env=env, start_new_session=True)
        self.log = log
        self.buffer = b''

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, request: dict) -> None:
        self.proc.stdin.write((json.dumps(request) + '\n').encode())
        self.proc.stdin.flush()

    def message(self, deadline: float) -> Optional[dict]:
        """The worker's next message; None when the deadline (``time.monotonic()``) passes or the worker exits.
        Lines that are not messages go to the log."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while True:
                while b'\n' in self.buffer:
                    line, self.buffer = self.buffer.split(b'\n', 1)
                    text = line.decode(errors='replace')
                    if text.startswith(MARK):
                        return json.loads(text[len(MARK):])
                    self.log.write(text + '\n')
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    return None
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.buffer += chunk

    def kill(self) -> Optional[int]:
        """Kills the worker's process group (if still running); its exit status."""
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.proc.wait()

    def close(self, timeout: float = 30) -> None:
        """Lets the worker end after its row (stdin closed); kills it if it has not within ``timeout`` s."""
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='gpu_check\'s worker (started by tools/gpu_check.py)')
    parser.add_argument('--device', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--smoke', action='store_true')
    args = parser.parse_args(argv)
    serve(args.device, args.smoke, args.out)


if __name__ == '__main__':
    main()
