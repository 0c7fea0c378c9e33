"""gpu_check's parent: runs the chosen rows in a worker within the budget, and reports after each.

A row gets its cap or what is left of the budget, whichever is less. The worker is killed when a
row passes its cap (or the run is stopped) and replaced after a row that did not pass, so that one
row's crash or a poisoned CUDA context does not take the next rows along. Every row stays in the
report, with the reason when it did not finish.
"""
import datetime
import os
import os.path as osp
import signal
import sys
import time
from typing import List, Optional

from .report import Report, RowRecord, write_report
from .rows import ROWS
from .worker import WorkerProcess


def stopped(signum, frame):
    raise KeyboardInterrupt(f'signal {signum}')


def run_row(worker: WorkerProcess, record: RowRecord, deadline: float, report: Report, out: str) -> Optional[dict]:
    """Has the worker run ``record``'s row, adding its parts to ``record`` (and the report on disk) as they
    come; returns its closing message, or None when the deadline passed or the worker ended first."""
    if not worker.alive() or report.env is None:
        return None
    worker.send(dict(row=record.name, earlier={r.name: r.parts for r in report.rows if r.parts}))
    while True:
        msg = worker.message(deadline)
        if msg is None or msg['kind'] == 'done':
            return msg
        if msg['kind'] == 'part':
            record.parts.append(msg['part'])
            print(f'[gpu_check]   {msg["part"]["summary"]}', flush=True)
            write_report(report, out)


def start_worker(device: str, smoke: bool, out: str, log, deadline: float, report: Report,
                 wanted: List[str]) -> Optional[WorkerProcess]:
    """A fresh worker, its environment in the report; None (every row left marked why) when it sees no GPU."""
    worker = WorkerProcess(device, smoke, out, log)
    hello = worker.message(deadline)
    if hello is None or hello['kind'] != 'env':
        return worker  # died or too slow: the row reports which
    report.env = hello['env']
    if not hello.get('error'):
        return worker
    report.error = hello['error']
    for record in report.rows:
        if record.state in ('not-started', 'running'):
            if record.name in wanted:
                record.mark('no-gpu', error=hello['error'])
            else:
                record.mark('not-chosen')
    print(f'[gpu_check] {hello["error"]}', flush=True)
    worker.close()
    return None


def run(wanted: List[str], budget: float, out: str, smoke: bool, device: str) -> int:
    """Runs the rows named in ``wanted`` in a worker on ``device`` within ``budget`` seconds, writing
    ``out``/gpu_check.{json,md,log}; exit status 1 when a row failed or raised or no GPU is visible."""
    os.makedirs(out, exist_ok=True)
    start = time.monotonic()
    deadline = start + budget
    report = Report(smoke=smoke, budget_s=budget,
                    started=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
                    rows=[RowRecord(r.name, r.title, r.smoke_cap if smoke else r.cap) for r in ROWS])
    write_report(report, out)
    log = open(osp.join(out, 'gpu_check.log'), 'a', buffering=1)
    log.write(f'==== gpu_check {" ".join(sys.argv[1:])} at {report.started}\n')
    worker: Optional[WorkerProcess] = None
    signal.signal(signal.SIGTERM, stopped)
    try:
        for record in report.rows:
            if record.name not in wanted:
                record.mark('not-chosen')
                continue
            left = deadline - time.monotonic()
            if left < 1:
                record.mark('no-budget', budget=budget)
                continue
            cap = min(record.cap_s, left)
            row_start = time.monotonic()
            row_deadline = row_start + cap
            record.mark('running')
            print(f'[gpu_check] row {record.name} (cap {cap:.0f} s)', flush=True)
            if worker is None:
                worker = start_worker(device, smoke, out, log, row_deadline, report, wanted)
                if worker is None:
                    break
            outcome = run_row(worker, record, row_deadline, report, out)
            record.seconds = round(time.monotonic() - row_start, 1)
            if outcome is None:  # cut at the cap, or the worker died
                alive = worker.alive()
                code = worker.kill()
                worker = None
                if alive:
                    record.mark('cut', cap=cap)
                else:
                    record.mark('worker-died', code=code)
            else:
                record.finish(outcome.get('error'))
                if record.status != 'ok':  # a fresh process for the next row (a CUDA error poisons the context)
                    worker.kill()
                    worker = None
            print(f'[gpu_check] row {record.name}: {record.status}'
                  + (f' ({record.reason})' if record.reason else '') + f', {record.seconds:.0f} s', flush=True)
            write_report(report, out)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the row that ran is reported as stopped
        for record in report.rows:
            if record.state == 'running':
                record.mark('stopped')
        if worker is not None:
            worker.kill()
            worker = None
        raise
    finally:
        if worker is not None:
            worker.close()
        report.finished = True
        report.seconds = round(time.monotonic() - start, 1)
        write_report(report, out)
        log.close()
    with open(osp.join(out, 'gpu_check.md')) as f:
        print(f.read())
    return 1 if report.error or any(r.status in ('failed', 'error') for r in report.rows) else 0
