"""gpu_check's report: a record per row with its state, written as gpu_check.json and gpu_check.md.

A row's ``state`` says where it stands; its ``status`` and ``reason`` (what the table shows) are
derived from the state here, in one place. Both files are rewritten whole after every change, so a
run cut off at any point still leaves what it measured.
"""
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import List, Optional

NOT_FINISHED = 'not finished'
# the reason a row that did not finish gives, by its state ('finished' rows take theirs from their parts)
REASONS = {
    'not-started': 'not started',
    'not-chosen': 'not chosen by --rows',
    'no-budget': 'the budget of {budget:g} s was spent before it could start',
    'running': 'was running when this report was written',
    'cut': 'cut at its cap of {cap:.0f} s',
    'worker-died': 'the worker process died (exit {code}; see gpu_check.log)',
    'stopped': 'the run was stopped (SIGTERM or Ctrl-C) while it ran',
    'no-gpu': '{error}',
}


@dataclass
class RowRecord:
    """One row in the report: its parts (figures) and where it stands."""
    name: str
    title: str
    cap_s: float
    status: str = NOT_FINISHED  # 'ok', 'failed', 'error' or 'not finished'
    reason: Optional[str] = REASONS['not-started']
    seconds: Optional[float] = None
    parts: List[dict] = field(default_factory=list)
    state: str = 'not-started'  # a key of REASONS, or 'finished'

    def mark(self, state: str, **facts) -> None:
        """The row did not finish, or has not yet: ``state`` and its reason, filled with ``facts``."""
        self.state, self.status, self.reason = state, NOT_FINISHED, REASONS[state].format(**facts)

    def finish(self, error: Optional[str] = None) -> None:
        """The row ran to its end: 'ok', 'failed' (a part failed, or it gave none) or 'error' (it or a
        part raised; ``error`` is the row's own)."""
        failed = [p for p in self.parts if not p['ok']]
        self.state = 'finished'
        self.status = 'error' if error or any(p.get('error') for p in failed) else \
            'failed' if failed or not self.parts else 'ok'
        self.reason = error or (f'{len(failed)} of {len(self.parts)} parts failed' if failed else None)


@dataclass
class Report:
    smoke: bool
    budget_s: float
    started: str  # date and time, ISO 8601
    rows: List[RowRecord]
    finished: bool = False  # False while the run goes on (or when it was killed)
    env: Optional[dict] = None  # device, versions, date, from the worker
    error: Optional[str] = None  # why no row could run
    seconds: Optional[float] = None  # the whole run's


def fmt_seconds(value) -> str:
    return '-' if value is None else f'{value:.0f}'


def table(report: Report) -> str:
    """gpu_check.md: the command, device and versions, and one line per row."""
    env = report.env or {}
    versions = ', '.join(f'{k} {env[k]}' for k in ('python', 'torch', 'torch_cuda', 'torchvision', 'mmengine', 'mmcv',
                                                  'mmdet', 'mmsegmentation', 'mmpretrain', 'timm', 'transformers')
                         if env.get(k))
    lines = [f'`tools/gpu_check.py{" --smoke" if report.smoke else ""} --budget {report.budget_s:g}`, '
             f'{report.started}' + ('' if report.finished else ' (still running or cut off)'),
             '', f'Device: {env.get("device", "not known yet")}; host CPUs: {env.get("host_cpus", "?")}.',
             f'Versions: {versions or "not known yet"}.', '']
    if report.smoke:
        lines += ['--smoke: toy sizes on the CPU (demo ViT, batch 2, one timed step, no compile, fp32); the row '
                  'titles name what the rows run on a GPU.', '']
    lines += ['| # | row | status | result | s (cap) |', '| --- | --- | --- | --- | --- |']
    for i, row in enumerate(report.rows, 1):
        status = row.status + (f': {row.reason}' if row.reason else '')
        result = '; '.join(p['summary'].replace('|', '/') for p in row.parts) or '-'
        lines.append(f'| {i} | {row.title} | {status} | {result} | {fmt_seconds(row.seconds)} '
                     f'({fmt_seconds(row.cap_s)}) |')
    return '\n'.join(lines) + '\n'


def write_report(report: Report, out: str) -> None:
    """gpu_check.json and gpu_check.md, each replaced whole (a reader never sees half a file)."""
    def replace(name, text):
        path = osp.join(out, name)
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)

    replace('gpu_check.json', json.dumps(asdict(report), indent=2, default=str) + '\n')
    replace('gpu_check.md', table(report))
