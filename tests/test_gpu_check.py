"""tools/gpu_check.py: every row in its order, reported after each row, none dropped, its figures read
as data from the benchmark library; --smoke runs the rows' code on the CPU at toy sizes."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import ROOT

ROWS = ['cuda_ops', 'demo_tasks', 'mae_vit-b', 'mae_vit-l', 'finetune_vit-b', 'mask-rcnn_vit-b', 'upernet_vit-b',
        'jpeg_pipeline', 'eager']


def gpu_check(tmp_path, *args, timeout=300):
    proc = subprocess.run([sys.executable, 'tools/gpu_check.py', '--out', str(tmp_path), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    with open(tmp_path / 'gpu_check.json') as f:
        report = json.load(f)
    with open(tmp_path / 'gpu_check.md') as f:
        table = f.read()
    return proc, report, table


def parts(row):
    return {p['name']: p for p in row['parts']}


@pytest.mark.slow
def test_smoke_runs_every_row(tmp_path):
    proc, report, table = gpu_check(tmp_path, '--smoke')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = report['rows']
    assert [r['name'] for r in rows] == ROWS
    assert [r['status'] for r in rows] == ['ok'] * len(ROWS), [(r['name'], r['status'], r['reason']) for r in rows]
    assert [r['state'] for r in rows] == ['finished'] * len(ROWS)
    assert report['finished'] and report['env']['torch'] and report['env']['mmcv'] == '2.1.0'

    ops = parts(rows[0])
    assert ops['RoIAlign']['forward_max_diff'] < 1e-4 and ops['RoIAlign']['backward_max_diff'] < 1e-4
    assert ops['NMS']['kept'] == ops['NMS']['kept_torchvision'] > 0
    tasks = parts(rows[1])
    assert list(tasks) == ['pretrain', 'finetune', 'linprobe', 'coco', 'ade20k']
    for task in tasks.values():
        assert len(task['losses']) == 2 and all(math.isfinite(v) for v in task['losses'])
        assert task['losses'][0] != task['losses'][1]
    for row, reference in [(2, 'mmpretrain'), (3, 'mmpretrain'), (4, 'mmpretrain'), (6, 'mmseg')]:
        (found,) = rows[row]['parts']
        assert set(found['rates']) == {'mae_mm', reference} and found['ratio'] > 0, found
        assert found['command'].startswith('python tools/benchmark.py ')
    assert set(rows[5]['parts'][0]['rates']) == {'mae_mm'}  # Mask R-CNN: no reference toolbox
    jpeg = parts(rows[7])
    assert set(jpeg) == {'synthetic', 'cpu decode, 0 workers', 'gpu decode, 0 workers'}  # smoke: no workers
    assert jpeg['cpu decode, 0 workers']['of_synthetic'] > 0 and jpeg['gpu decode, 0 workers']['of_synthetic'] > 0
    assert len(rows[8]['parts']) == 3

    assert 'Device: CPU' in table and f'torch {report["env"]["torch"]}' in table
    assert report['started'] in table
    assert table.count('| ok |') == len(ROWS)


def test_a_spent_budget_reports_every_row_as_not_finished(tmp_path):
    proc, report, table = gpu_check(tmp_path, '--smoke', '--budget', '0', timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [r['name'] for r in report['rows']] == ROWS
    for row in report['rows']:
        assert row['status'] == 'not finished' and row['state'] == 'no-budget' and row['parts'] == []
        assert row['reason'] == 'the budget of 0 s was spent before it could start'
    assert table.count('| not finished: the budget of 0 s was spent before it could start |') == len(ROWS)


def test_a_row_cut_at_its_cap_is_reported_and_the_rest_still_listed(tmp_path):
    """Two seconds: the worker is still importing when row 1's cap (the budget left) ends."""
    proc, report, _ = gpu_check(tmp_path, '--smoke', '--budget', '2', '--rows', '1,3', timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = {r['name']: r for r in report['rows']}
    assert rows['cuda_ops']['status'] == 'not finished' and rows['cuda_ops']['state'] == 'cut'
    assert rows['cuda_ops']['reason'] == 'cut at its cap of 2 s' and 1.5 < rows['cuda_ops']['seconds'] < 10
    assert rows['mae_vit-b']['reason'] == 'the budget of 2 s was spent before it could start'
    assert rows['demo_tasks']['reason'] == 'not chosen by --rows' and rows['demo_tasks']['state'] == 'not-chosen'
    assert len(rows) == len(ROWS)


def test_an_unknown_row_is_refused():
    proc = subprocess.run([sys.executable, 'tools/gpu_check.py', '--rows', '10'], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0 and "--rows: unknown row '10' (rows: 1-9 or cuda_ops, demo_tasks" in proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is visible here')
def test_without_a_gpu_it_says_so(tmp_path):
    proc, report, _ = gpu_check(tmp_path, '--budget', '60', timeout=120)
    assert proc.returncode == 1
    assert 'torch sees no GPU' in report['error'] and '--smoke runs the rows on the CPU' in report['error']
    assert all(r['status'] == 'not finished' and r['state'] == 'no-gpu' and 'torch sees no GPU' in r['reason']
               for r in report['rows'])
    assert osp.exists(tmp_path / 'gpu_check.md')


def test_a_stopped_run_leaves_the_rows_it_finished(tmp_path):
    """SIGTERM (a job's time limit) after row 1: its result stays, row 2 is reported as stopped."""
    import signal
    import time
    proc = subprocess.Popen([sys.executable, 'tools/gpu_check.py', '--smoke', '--out', str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    row = {}
    while time.monotonic() < deadline and row.get('status') != 'ok':
        time.sleep(0.2)
        try:
            with open(tmp_path / 'gpu_check.json') as f:
                row = json.load(f)['rows'][0]
        except (OSError, ValueError):
            pass
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    with open(tmp_path / 'gpu_check.json') as f:
        report = json.load(f)
    rows = report['rows']
    assert rows[0]['status'] == 'ok' and {p['name'] for p in rows[0]['parts']} == {'mmcv build', 'RoIAlign', 'NMS'}
    assert rows[1]['status'] == 'not finished' and rows[1]['state'] == 'stopped'
    assert rows[1]['reason'] == 'the run was stopped (SIGTERM or Ctrl-C) while it ran'
    assert [r['reason'] for r in rows[2:]] == ['not started'] * 7
    assert [r['state'] for r in rows[2:]] == ['not-started'] * 7
    workers = [p for p in os.listdir('/proc') if p.isdigit() and str(tmp_path).encode() in _cmdline(p)]
    assert workers == [], 'the worker process outlived the run'


def test_a_rows_figures_are_the_benchmark_librarys_numbers(tmp_path, monkeypatch):
    """Row 3 takes its rates, memory and ratio from what the library returns, unrounded, into gpu_check.json."""
    from mae_mm.benchmark import step
    from mae_mm.benchmark.gpu_check import speed
    from mae_mm.benchmark.gpu_check.parts import Context
    from mae_mm.benchmark.gpu_check.report import Report, RowRecord, write_report
    asked = []

    def time_train_step(config, options, on_ready=None):
        asked.append((config, options))
        return step.StepResult(options, (
            step.Timing(step.Setup('mae_mm', 'AutocastOptimWrapper', 'AdamW', True, 'train_step'),
                        (1234.5678, 1e3, 2e3), 3.14159, 'peak allocated'),
            step.Timing(step.Setup('mmpretrain', 'AmpOptimWrapper', 'AdamW', True, 'forward'), (987.654321,), 2.5,
                        'peak allocated')))

    monkeypatch.setattr(step, 'time_train_step', time_train_step)
    monkeypatch.setattr(speed, 'free_memory', lambda ctx: None)
    (found,) = speed.row_mae_b(Context(device='cuda', smoke=False, out=str(tmp_path)))
    record = RowRecord('mae_vit-b', 'MAE ViT-B/16', 150, parts=[found])
    record.finish()
    write_report(Report(smoke=False, budget_s=300, started='now', rows=[record]), str(tmp_path))
    with open(tmp_path / 'gpu_check.json') as f:
        (stored,) = json.load(f)['rows'][0]['parts']

    config = 'configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'
    assert asked == [(osp.join(ROOT, config), step.StepOptions(batch=512, steps=5, windows=3, warmup=2, compile=True,
                                                               versus='mmpretrain', device='cuda'))]
    assert stored['rates'] == {'mae_mm': {'img_s': 1234.5678, 'memory': '3.14 GiB peak allocated'},
                               'mmpretrain': {'img_s': 987.654321, 'memory': '2.50 GiB peak allocated'}}
    assert stored['ratio'] == 1234.5678 / 987.654321
    assert stored['command'] == f'python tools/benchmark.py {config} --batch 512 --steps 5 --windows 3 --warmup 2 ' \
                                '--compile --vs-mmpretrain'
    assert stored['summary'] == ('vit-b/16 b512 compiled: mae_mm 1,234.6 img/s (3.14 GiB peak allocated, compiled: '
                                 'train_step), mmpretrain 987.7 img/s (2.50 GiB peak allocated, compiled: forward), '
                                 'ratio 1.250')


def _cmdline(pid):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return f.read()
    except OSError:
        return b''
