"""tools/transfer.py and mae_mm.suite: the results.json schema, the sweep grid, the stage graph, what
a checkpoint is, the refusals before anything runs, --status without torch, a killed stage resumed
to the uninterrupted result, --compare, and a suite run on a real single-node Slurm."""
import glob
import hashlib
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from conftest import ROOT
from mae_mm.suite.errors import NotAPretrainingCheckpoint, RunRefused
from mae_mm.suite.execute.poll import resumable
from mae_mm.suite.plan.checkpoint import file_sha256, kind_from_keys, sha256_of
from mae_mm.suite.plan.graph import build_stages, merge_previous, order, to_run
from mae_mm.suite.plan.manifest import read_manifest as read_run_manifest
from mae_mm.suite.plan.points import grid, parse_sweeps
from mae_mm.suite.plan.suite import STAGE_NAMES, load_suite
from mae_mm.suite.report.curves import run_labels
from mae_mm.suite.report.results import collect, stage_results
from mae_mm.suite.report.status import status_lines
from mae_mm.suite.report.tables import compare
from reliability_utils import derived_config, run, status_without

DEMO = osp.join(ROOT, 'configs', 'demo')
FINETUNE_STAGE = dict(config='x.py', gpus=1, train=True, metrics=dict(top1='accuracy/top1'), select='top1',
                      lower_is_better=False)


# ---------------------------------------------------------------- results, grid, checkpoint kinds

def test_one_point_gives_the_metric_keys_only():
    point = dict(overrides={}, seed=None, metrics=dict(top1=61.0))
    assert stage_results(FINETUNE_STAGE, [point]) == {'top1': 61.0}


def test_sweep_with_seeds_picks_the_best_mean_and_reports_mean_std_n():
    def point(lr, seed, top1):
        return dict(overrides={'optim_wrapper.optimizer.lr': lr}, seed=seed, metrics=dict(top1=top1))
    points = [point(1e-4, 0, 50.0), point(1e-4, 1, 54.0), point(1e-4, 2, 52.0),
              point(2e-4, 0, 60.0), point(2e-4, 1, 40.0), point(2e-4, 2, 47.0)]  # means 52 and 49
    out = stage_results(FINETUNE_STAGE, points)
    assert out['top1'] == 52.0
    assert out['chosen']['overrides'] == {'optim_wrapper.optimizer.lr': 1e-4}
    assert out['chosen']['n'] == 3
    assert out['chosen']['std']['top1'] == pytest.approx(2.0)  # sample std of 50, 54, 52
    assert len(out['points']) == 6 and out['points'][3] == dict(overrides={'optim_wrapper.optimizer.lr': 2e-4},
                                                                 seed=0, metrics=dict(top1=60.0))
    lower = dict(FINETUNE_STAGE, lower_is_better=True)
    assert stage_results(lower, points)['chosen']['overrides'] == {'optim_wrapper.optimizer.lr': 2e-4}


def test_results_json_schema():
    stage = lambda metrics, **kw: dict(FINETUNE_STAGE, metrics=metrics, **kw)  # noqa: E731
    done = lambda **m: [dict(name='', overrides={}, seed=None, status='done', metrics=m)]  # noqa: E731
    manifest = dict(
        checkpoint=dict(path='/ckpt.pth', sha256='ab' * 32, kind='mae_mm', converted=None, size=1, mtime_ns=2),
        suite=dict(path='configs/suites/demo.py', sha256='x', cited={}),
        stages=dict(pretrain=dict(stage=stage(dict(loss='recon/mse'), train=False), points=done(loss=0.5)),
                    finetune=dict(stage=stage(dict(top1='accuracy/top1')), points=done(top1=62.0)),
                    coco=dict(stage=stage(dict(bbox_mAP='coco/bbox_mAP', segm_mAP='coco/segm_mAP')),
                              points=done(bbox_mAP=0.125, segm_mAP=0.25)),
                    ade20k=dict(stage=stage(dict(mIoU='mIoU')),
                                points=[dict(name='', overrides={}, seed=None, status='failed', metrics=None)])))
    assert collect(manifest) == {
        'checkpoint': {'path': '/ckpt.pth', 'sha256': 'ab' * 32, 'kind': 'mae_mm', 'converted': None},
        'suite': 'configs/suites/demo.py',
        'pretrain': {'loss': 0.5}, 'finetune': {'top1': 62.0}, 'coco': {'bbox_mAP': 0.125, 'segm_mAP': 0.25}}


def test_compare_table_shows_percent_and_differences():
    a = dict(checkpoint=dict(path='a.pth', sha256='1' * 64), coco=dict(bbox_mAP=0.125), finetune=dict(top1=50.0))
    b = dict(checkpoint=dict(path='b.pth', sha256='2' * 64), coco=dict(bbox_mAP=0.25), finetune=dict(top1=55.5))
    text = compare(a, b, 'early', 'last')
    assert '| fine-tune top1 | 50 | 55.5 | 5.5 |' in text
    assert '| COCO bbox_mAP | 12.5 | 25 | 12.5 |' in text  # mmdet's fraction in percent


def test_sweep_grid_names_and_values():
    sweeps = parse_sweeps(['optim_wrapper.optimizer.lr=1e-4,2e-4', 'model.backbone.drop_path_rate=0.1'])
    points = grid(sweeps, seeds=2)
    assert [p['name'] for p in points] == ['lr=0.0001_drop_path_rate=0.1_seed=0', 'lr=0.0001_drop_path_rate=0.1_seed=1',
                                           'lr=0.0002_drop_path_rate=0.1_seed=0', 'lr=0.0002_drop_path_rate=0.1_seed=1']
    assert points[2]['overrides'] == {'optim_wrapper.optimizer.lr': 2e-4, 'model.backbone.drop_path_rate': 0.1}
    assert grid({}, None) == [dict(name='', overrides={}, seed=None)]
    with pytest.raises(ValueError, match='KEY=V1'):
        parse_sweeps(['lr'])


def test_a_second_sweep_extends_the_grid_and_keeps_what_ran():
    stages = dict(finetune=FINETUNE_STAGE)
    first = build_stages(stages, parse_sweeps(['optim_wrapper.optimizer.lr=1e-4,2e-4,3e-4']), None, 'mae_mm')
    statuses = ('done', 'pending', 'interrupted')
    for point, status in zip(first['finetune']['points'], statuses):
        point.update(status=status, metrics=dict(top1=50.0) if status == 'done' else None)
    second = build_stages(stages, parse_sweeps(['optim_wrapper.optimizer.lr=4e-4,1e-4']), None, 'mae_mm')
    merged = merge_previous(second, dict(stages=first))['finetune']['points']
    # this grid's points (1e-4 with the state it ran to); 2e-4 never ran and 3e-4 was interrupted: dropped
    assert [(p['name'], p['status']) for p in merged] == [('lr=0.0004', 'pending'), ('lr=0.0001', 'done')]
    first['finetune']['points'][1]['status'] = 'failed'  # a point that ran and failed is kept too
    second = build_stages(stages, parse_sweeps(['optim_wrapper.optimizer.lr=4e-4,1e-4']), None, 'mae_mm')
    merged = merge_previous(second, dict(stages=first))['finetune']['points']
    assert [(p['name'], p['status']) for p in merged] == [('lr=0.0004', 'pending'), ('lr=0.0001', 'done'),
                                                           ('lr=0.0002', 'failed')]
    # recorded as running by a local transfer.py that is gone (killed): interrupted, so dropped too;
    # one whose transfer.py still runs is kept
    first['finetune']['points'][1].update(status='running', pid=dead_pid(), host=socket.gethostname())
    first['finetune']['points'][2].update(status='running', pid=os.getpid(), host=socket.gethostname())
    second = build_stages(stages, parse_sweeps(['optim_wrapper.optimizer.lr=4e-4,1e-4']), None, 'mae_mm')
    merged = merge_previous(second, dict(stages=first, launcher='local'))['finetune']['points']
    assert [(p['name'], p['status']) for p in merged] == [('lr=0.0004', 'pending'), ('lr=0.0001', 'done'),
                                                           ('lr=0.0003', 'running')]


def test_slurm_jobs_stopped_rather_than_broken_are_resumable():
    for state in ('CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED'):
        assert resumable(state, '0:15')
    assert resumable('FAILED', '75:0')  # saved on a signal after its last allowed restart
    assert not resumable('FAILED', '1:0') and not resumable('OUT_OF_MEMORY', '0:125')
    assert not resumable(None, None)  # gone from slurmctld: what it was is not known


def test_curve_labels_stay_apart_when_stages_share_point_names(tmp_path):
    run_dir = tmp_path / 'run'
    dirs = [str(run_dir / 'pretrain'), str(run_dir / 'finetune' / 'seed=0'), str(run_dir / 'coco' / 'seed=0')]
    assert run_labels(dirs) == ['pretrain', 'finetune/seed=0', 'coco/seed=0']
    assert run_labels(dirs[:2]) == ['pretrain', 'seed=0']


def test_stages_run_after_what_they_need():
    stages = build_stages(dict(pretrain=dict(FINETUNE_STAGE, train=False), finetune=FINETUNE_STAGE), {}, None, 'mae_mm')
    assert {name: record['needs'] for name, record in stages.items()} == dict(pretrain=['checkpoint'],
                                                                              finetune=['checkpoint'])
    assert order(stages) == ['pretrain', 'finetune']
    # a stage that evaluates another stage's checkpoint runs after it, wherever the manifest lists it
    graph = dict(evaluate=dict(needs=['finetune']), finetune=dict(needs=['checkpoint']))
    assert order(graph) == ['finetune', 'evaluate']
    with pytest.raises(RunRefused, match=r"need what the run does not have: \{'evaluate': \['coco'\]\}"):
        order(dict(evaluate=dict(needs=['coco'])))
    with pytest.raises(RunRefused, match=r"need each other: \['a', 'b'\]"):
        order(dict(a=dict(needs=['b']), b=dict(needs=['a'])))


def dead_pid() -> int:
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


def test_a_local_point_whose_transfer_py_is_gone_is_interrupted_with_one_reason(tmp_path):
    manifest = dict(launcher='local', stages=build_stages(dict(finetune=FINETUNE_STAGE), {}, None, 'mae_mm'))
    [point] = manifest['stages']['finetune']['points']
    pid = dead_pid()
    point.update(status='running', pid=pid, host=socket.gethostname())
    reason = f'the transfer.py (pid {pid}) that ran it is gone'
    assert status_lines(str(tmp_path), manifest) == [f'finetune: interrupted: {reason}']
    point.update(status='running', reason=None)
    assert to_run(manifest, retry_failed=False) == [point] and point['reason'] == reason
    point.update(status='running', pid=os.getpid())  # this process: still running, so refused
    with pytest.raises(RunRefused, match='finetune  is running'):
        to_run(manifest, retry_failed=False)


def test_sha256_is_read_from_the_cache_while_the_file_is_unchanged(tmp_path):
    path, cache = tmp_path / 'ckpt.pth', str(tmp_path / 'cache.json')
    path.write_bytes(b'weights')
    assert sha256_of(str(path), cache) == file_sha256(str(path)) == hashlib.sha256(b'weights').hexdigest()
    with open(cache) as f:
        entries = json.load(f)
    json.dump({key: 'cached' for key in entries}, open(cache, 'w'))
    assert sha256_of(str(path), cache) == 'cached'
    path.write_bytes(b'other weights')  # another size: hashed again
    assert sha256_of(str(path), cache) == hashlib.sha256(b'other weights').hexdigest()


def test_checkpoint_kinds():
    assert kind_from_keys(['encoder.pos_embed', 'encoder.blocks.0.norm1.weight', 'decoder.pred.weight']) == 'mae_mm'
    assert kind_from_keys(['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'blocks.0.norm1.weight']) == 'official'
    assert kind_from_keys(['backbone.patch_embed.projection.weight', 'backbone.layers.0.ln1.weight',
                           'neck.decoder_pred.weight']) == 'mmpretrain'
    with pytest.raises(NotAPretrainingCheckpoint, match='classifier head'):
        kind_from_keys(['backbone.blocks.0.norm1.weight', 'head.fc.weight'])
    with pytest.raises(NotAPretrainingCheckpoint, match=r'not those of an MAE ViT.*conv1'):
        kind_from_keys(['conv1.weight', 'fc.weight'])


# ---------------------------------------------------------------- refusals, before anything runs

def transfer(*args, check=False, timeout=600, env=None):
    return run('tools/transfer.py', *args, check=check, timeout=timeout, threads=1, env=env)


def write_suite(tmp_path, body, name='suite'):
    path = tmp_path / f'{name}.py'
    path.write_text(f"_base_ = {osp.join(ROOT, 'configs', 'suites', 'demo.py')!r}\n" + body)
    return str(path)


def short_config(tmp_path, name, base, body):
    path = tmp_path / f'{name}.py'
    path.write_text(f'_base_ = {osp.join(DEMO, base)!r}\n' + body)
    return str(path)


def short_finetune(tmp_path, epochs=2):
    """The demo fine-tuning for ``epochs`` epochs of 6 iterations (192 of its images)."""
    return short_config(tmp_path, 'finetune_short', 'vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', f"""
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
train_dataloader = dict(dataset=dict(indices=192))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=0, end={epochs},
                        convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
""")


@pytest.fixture(scope='module')
def fake_pretrain(tmp_path_factory):
    """A checkpoint with our pretraining keys (the refusals never train on it)."""
    path = tmp_path_factory.mktemp('ckpt') / 'pretrain.pth'
    torch.save(dict(state_dict={'encoder.pos_embed': torch.zeros(1, 65, 192),
                                'encoder.blocks.0.norm1.weight': torch.ones(192)}, meta={}), path)
    return str(path)


def test_files_that_are_not_pretraining_checkpoints_are_refused(tmp_path, demo_data):
    suite = write_suite(tmp_path, "stages = dict(_delete_=True, finetune=dict(config='configs/demo/"
                                  "vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', metrics=dict(top1='accuracy/top1')))\n")
    random_bytes = tmp_path / 'random.pth'
    random_bytes.write_bytes(os.urandom(4096))
    classifier = tmp_path / 'classifier.pth'
    torch.save(dict(state_dict={'backbone.pos_embed': torch.zeros(1), 'head.fc.weight': torch.zeros(5, 2)}), classifier)
    whole = tmp_path / 'whole.pth'
    torch.save(dict(state_dict={'encoder.pos_embed': torch.zeros(1, 65, 192),
                                'encoder.blocks.0.norm1.weight': torch.ones(1000)}), whole)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(whole.read_bytes()[:2000])
    for path, message in ((random_bytes, 'cannot be read as a checkpoint'), (truncated, 'cannot be read as a checkpoint'),
                          (classifier, 'classifier head'), (tmp_path / 'absent.pth', 'not found')):
        proc = transfer(str(path), '--suite', suite, '--work-dir', str(tmp_path / 'run'))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert message in proc.stderr and str(path.name) in proc.stderr, proc.stderr
    assert not osp.exists(tmp_path / 'run' / 'manifest.json')


def test_bad_suites_sweeps_data_launchers_and_work_dirs_are_refused(tmp_path, fake_pretrain, demo_data):
    ok = write_suite(tmp_path, "stages = dict(_delete_=True, finetune=dict(config='configs/demo/"
                               "vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', metrics=dict(top1='accuracy/top1')))\n")
    missing_config = write_suite(tmp_path, "stages = dict(coco=dict(config='configs/demo/nope.py'))\n", 'missing')
    no_data = short_config(tmp_path, 'no_data', 'vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py',
                           "train_dataloader = dict(dataset=dict(data_root='/nonexistent/imagenet'))\n")
    missing_data = write_suite(tmp_path, f"stages = dict(_delete_=True, finetune=dict(config={no_data!r}, "
                                         "metrics=dict(top1='accuracy/top1')))\n", 'nodata')
    work = str(tmp_path / 'run')
    cases = [
        ((fake_pretrain, '--suite', missing_config), 'stages.coco.config does not exist: configs/demo/nope.py'),
        ((fake_pretrain, '--suite', ok, '--sweep', 'optim_wrapper.optimizer.lrr=1,2'),
         'has no optim_wrapper.optimizer.lrr'),
        ((fake_pretrain, '--suite', missing_data), '/nonexistent/imagenet'),
        ((fake_pretrain, '--suite', ok, '--only', 'coco'), "['coco'] not in this suite"),
    ]
    for args, message in cases:
        proc = transfer(*args, '--work-dir', work)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    # --launcher slurm without sbatch on PATH: only the venv's bin (not /bin: on a merged-/usr system
    # it is /usr/bin, where the Slurm fixture installs sbatch)
    path = osp.dirname(sys.executable)
    proc = transfer(fake_pretrain, '--suite', ok, '--launcher', 'slurm', '--partition', 'p', '--work-dir', work,
                    env={'PATH': path})
    assert proc.returncode == 2 and 'sbatch' in proc.stderr and 'not found on PATH' in proc.stderr, proc.stderr
    assert not osp.exists(osp.join(work, 'manifest.json'))
    # a work dir that holds another checkpoint's run
    proc = transfer(fake_pretrain, '--suite', ok, '--work-dir', work, '--dry-run')
    assert proc.returncode == 0 and '1 point(s) to run' in proc.stdout, proc.stderr
    os.makedirs(work)
    json.dump(dict(version=1, checkpoint=dict(path='/other.pth', sha256='f' * 64), stages={}, launcher='local'),
              open(osp.join(work, 'manifest.json'), 'w'))
    proc = transfer(fake_pretrain, '--suite', ok, '--work-dir', work)
    assert proc.returncode == 2 and 'holds the suite run of another checkpoint (/other.pth' in proc.stderr, proc.stderr
    # --replace, but this run is refused (its data is missing): the other run is still all there
    os.makedirs(osp.join(work, 'finetune'))
    open(osp.join(work, 'finetune', 'epoch_1.pth'), 'w').close()
    proc = transfer(fake_pretrain, '--suite', missing_data, '--work-dir', work, '--replace')
    assert proc.returncode == 2 and '/nonexistent/imagenet' in proc.stderr, proc.stderr
    assert json.load(open(osp.join(work, 'manifest.json')))['checkpoint']['path'] == '/other.pth'
    assert osp.isfile(osp.join(work, 'finetune', 'epoch_1.pth'))
    proc = transfer(fake_pretrain, '--suite', ok, '--work-dir', work, '--replace', '--dry-run')
    assert proc.returncode == 0 and f'would discard {osp.join(work, "finetune")}' in proc.stdout, proc.stdout
    assert osp.isfile(osp.join(work, 'finetune', 'epoch_1.pth'))


# ---------------------------------------------------------------- --status without torch

def test_status_reads_a_run_without_torch_mmengine_or_mmcv(tmp_path):
    """--status of a run dir as the code before stage ``needs`` wrote it, in processes where torch,
    mmengine and mmcv cannot be imported: the interrupted point, then the outputs once all ended."""
    work = tmp_path / 'run'
    scalars = work / 'finetune' / '20260101_000000' / 'vis_data'
    scalars.mkdir(parents=True)
    (scalars / 'scalars.json').write_text(''.join(json.dumps(dict(lr=0.1, loss=loss, epoch=1, iter=i, step=i)) + '\n'
                                                  for i, loss in ((1, 2.0), (2, 1.5))))
    point = dict(name='', overrides={}, seed=None, reason=None, job_id=None, log=None, pid=None, host=None)
    stages = dict(
        pretrain=dict(stage=dict(FINETUNE_STAGE, config='configs/demo/pretrain.py', train=False,
                                 metrics=dict(loss='recon/mse'), select='loss', lower_is_better=True),
                      points=[dict(point, stage='pretrain', status='done', metrics=dict(loss=0.5))]),
        finetune=dict(stage=FINETUNE_STAGE, points=[dict(point, stage='finetune', status='done',
                                                         metrics=dict(top1=61.25))]),
        linprobe=dict(stage=FINETUNE_STAGE, points=[dict(point, stage='linprobe', status='running', pid=dead_pid(),
                                                         host=socket.gethostname())]))
    manifest = dict(version=1, created='2026-01-01 00:00:00', launcher='local', partition=None,
                    checkpoint=dict(path=str(tmp_path / 'pretrain.pth'), size=1, mtime_ns=1, sha256='ab' * 32,
                                    kind='mae_mm', converted=None),
                    suite=dict(path='configs/suites/demo.py', sha256='cd' * 32, cited={}), stages=stages)
    with open(work / 'manifest.json', 'w') as f:
        json.dump(manifest, f)
    blocked = ('torch', 'mmengine', 'mmcv')

    proc = status_without(blocked, work, tmp_path / 'blocked')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f'{work}: {tmp_path / "pretrain.pth"} with configs/suites/demo.py (local)',
        '  pretrain: done: loss=0.5', '  finetune: done: top1=61.25',
        f'  linprobe: interrupted: the transfer.py (pid {stages["linprobe"]["points"][0]["pid"]}) that ran it is gone']
    assert not osp.exists(work / 'results.json')

    stages['linprobe']['points'][0].update(status='failed', reason='exit 1: RuntimeError: boom')
    with open(work / 'manifest.json', 'w') as f:
        json.dump(manifest, f)
    proc = status_without(blocked, work, tmp_path / 'blocked')
    assert proc.returncode == 1, proc.stderr  # a failed point
    assert '  linprobe: failed: exit 1: RuntimeError: boom' in proc.stdout, proc.stdout
    assert '| fine-tune top1 (%) | 61.25 | - | - |' in proc.stdout, proc.stdout
    assert json.load(open(work / 'results.json')) == {
        'checkpoint': dict(path=str(tmp_path / 'pretrain.pth'), sha256='ab' * 32, kind='mae_mm', converted=None),
        'suite': 'configs/suites/demo.py', 'pretrain': {'loss': 0.5}, 'finetune': {'top1': 61.25}}
    for name in ('results.md', 'results.png', 'curves.png'):
        assert osp.getsize(work / name) > 0, name
    assert read_run_manifest(str(work))['stages']['finetune']['needs'] == ['checkpoint']  # read as before


# ---------------------------------------------------------------- whole runs (train through the tools)

def read_manifest(work):
    with open(osp.join(work, 'manifest.json')) as f:
        return json.load(f)


@pytest.mark.slow
def test_a_killed_stage_resumes_to_the_uninterrupted_result(tmp_path, demo_pretrain):
    pretrained = osp.join(demo_pretrain, 'epoch_40.pth')
    finetune = short_finetune(tmp_path)
    suite = write_suite(tmp_path, f"stages = dict(_delete_=True, pretrain=_base_.stages.pretrain, "
                                  f"finetune=dict(config={finetune!r}, metrics=dict(top1='accuracy/top1')))\n")
    reference = str(tmp_path / 'reference')
    transfer(pretrained, '--suite', suite, '--only', 'finetune', '--work-dir', reference, check=True)
    expected = read_manifest(reference)['stages']['finetune']['points'][0]['metrics']

    work = str(tmp_path / 'killed')
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, 'tools/transfer.py', pretrained, '--suite', suite, '--work-dir', work],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 600
    while not osp.exists(osp.join(work, 'finetune', 'epoch_1.pth')):  # killed during epoch 2
        assert proc.poll() is None and time.time() < deadline, 'the run ended before its first checkpoint'
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = read_manifest(work)
    assert [p['status'] for p in killed['stages']['pretrain']['points']] == ['done']
    assert [p['status'] for p in killed['stages']['finetune']['points']] == ['running']
    pretrain_log = osp.join(work, 'pretrain-eval', 'transfer.log')
    pretrain_log_size = os.path.getsize(pretrain_log)

    status = transfer('--status', work, check=True).stdout
    assert 'finetune: interrupted' in status and 'pretrain: done' in status, status
    again = transfer(pretrained, '--suite', suite, '--work-dir', work, check=True).stdout
    assert 'finetune: resuming from its newest whole checkpoint' in again, again
    assert 'pretrain: started' not in again, again  # done: not run again
    assert os.path.getsize(pretrain_log) == pretrain_log_size
    log = open(osp.join(work, 'finetune', 'transfer.log')).read()
    assert 'resumed epoch: 1' in log, log[-3000:]  # mmengine's resume line: from epoch_1.pth, not from the start
    final = read_manifest(work)
    assert final['stages']['finetune']['points'][0]['metrics'] == expected
    results = json.load(open(osp.join(work, 'results.json')))
    assert results['finetune'] == expected and set(results['pretrain']) == {'loss'}
    for name in ('results.md', 'results.png', 'curves.png'):
        assert osp.getsize(osp.join(work, name)) > 0, name


@pytest.mark.slow
def test_compare_two_checkpoints_of_one_pretraining(tmp_path, demo_pretrain):
    suite = write_suite(tmp_path, 'stages = dict(_delete_=True, pretrain=_base_.stages.pretrain)\n')
    early, last = str(tmp_path / 'early'), str(tmp_path / 'last')
    ckpts = sorted((f for f in os.listdir(demo_pretrain) if f.startswith('epoch_')), key=lambda f: int(f[6:-4]))
    transfer(osp.join(demo_pretrain, ckpts[0]), '--suite', suite, '--work-dir', early, check=True)
    transfer(osp.join(demo_pretrain, ckpts[-1]), '--suite', suite, '--work-dir', last, check=True)
    loss_early = json.load(open(osp.join(early, 'results.json')))['pretrain']['loss']
    loss_last = json.load(open(osp.join(last, 'results.json')))['pretrain']['loss']
    out = transfer('--compare', early, last, check=True).stdout
    row = f'| pretrain loss | {loss_early:.4g} | {loss_last:.4g} | {loss_last - loss_early:.4g} |'
    assert row in out and row in open(osp.join(last, 'compare.md')).read(), out
    # the last checkpoint into the early run's dir: refused, then with --replace that run is discarded
    proc = transfer(osp.join(demo_pretrain, ckpts[-1]), '--suite', suite, '--work-dir', early)
    assert proc.returncode == 2 and 'holds the suite run of another checkpoint' in proc.stderr, proc.stderr
    out = transfer(osp.join(demo_pretrain, ckpts[-1]), '--suite', suite, '--work-dir', early, '--replace',
                   check=True).stdout
    assert f'--replace: discarding the previous run in {early}' in out, out
    assert read_manifest(early)['checkpoint']['path'] == osp.join(demo_pretrain, ckpts[-1])
    assert json.load(open(osp.join(early, 'results.json')))['pretrain']['loss'] == loss_last


@pytest.mark.slow
def test_a_short_suite_on_a_real_slurm(tmp_path, demo_pretrain, slurm_cluster):
    """The evaluation-only pretraining stage and a trained stage of two seeds (one array of two
    tasks), collected by a job of their own (linear probing on Slurm: the studies' tests)."""
    ade20k = short_config(tmp_path, 'ade20k_short', 'upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py', """
train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4)]
default_hooks = dict(checkpoint=dict(interval=4))
""")
    suite = write_suite(tmp_path, f"""stages = dict(_delete_=True, pretrain=_base_.stages.pretrain,
    ade20k=dict(config={ade20k!r}, metrics=dict(mIoU='mIoU')))
""")
    work = str(tmp_path / 'slurm')
    # one job at a time on this node (every CPU per task), so the gloo ports never meet
    env = dict(SLURM_CONF=slurm_cluster.conf, CPUS_PER_TASK=str(os.cpu_count()), OMP_NUM_THREADS='1')
    out = transfer(osp.join(demo_pretrain, 'epoch_40.pth'), '--suite', suite, '--work-dir', work, '--launcher',
                   'slurm', '--partition', slurm_cluster.partition, '--gpus', '1', '--seeds', '2',
                   check=True, env=env).stdout
    manifest = read_manifest(work)
    jobs = {s: [p['job_id'] for p in record['points']] for s, record in manifest['stages'].items()}
    # the evaluation is one job; each trained stage's two seeds one job array of two tasks
    assert len(jobs['pretrain']) == 1 and '_' not in jobs['pretrain'][0], out
    array = jobs['ade20k'][0].split('_')[0]
    assert jobs['ade20k'] == [f'{array}_0', f'{array}_1'], out
    assert manifest['collect_job'], out
    for job in [j for ids in jobs.values() for j in ids] + [manifest['collect_job']]:
        fields = slurm_cluster.wait_for(job, timeout=600)
        assert fields['JobState'] == 'COMPLETED', fields
    # the evaluation-only stage: tools/slurm_train.sh --eval CHECKPOINT, passed on to tools/test.py
    pretrain_log = open(osp.join(work, 'pretrain-eval', f'slurm-{jobs["pretrain"][0]}.out')).read()
    assert f'evaluating {manifest["checkpoint"]["path"]} with' in pretrain_log, pretrain_log[-3000:]
    assert osp.isfile(osp.join(work, 'pretrain-eval', 'metrics.json'))
    for point in manifest['stages']['ade20k']['points']:  # each task in its own point dir, its log in the stage's
        assert osp.isfile(osp.join(work, 'ade20k', point['name'], 'metrics.json')), point
        assert osp.isfile(osp.join(work, 'ade20k', f'slurm-{point["job_id"]}.out')), point
    results = json.load(open(osp.join(work, 'results.json')))  # written by the collection job
    assert set(results) == {'checkpoint', 'suite', 'pretrain', 'ade20k'}
    assert 0 <= results['ade20k']['mIoU'] <= 100
    seeds = [p['metrics']['mIoU'] for p in results['ade20k']['points']]
    chosen = results['ade20k']['chosen']
    assert chosen['n'] == 2 and results['ade20k']['mIoU'] == chosen['mean']['mIoU'] == pytest.approx(sum(seeds) / 2)
    assert {p['seed'] for p in results['ade20k']['points']} == {0, 1}
    status = transfer('--status', work, check=True, env=env).stdout
    assert status.count(': done') == 3 and '| ADE20K mIoU (%) |' in status, status


@pytest.mark.slow
def test_a_plain_scancel_of_a_slurm_stage_saves_stays_cancelled_and_status_says_interrupted(
        tmp_path, demo_pretrain, slurm_cluster):
    """A user cancels a suite stage's job with a plain ``scancel`` (TERM to every process): the
    training saves the iteration it is at, the job ends CANCELLED and is not requeued, its log
    names the checkpoint and the command to run again, and ``--status`` shows the stage
    interrupted, resumable by the same command."""
    markers = tmp_path / 'markers'
    markers.mkdir()
    linprobe = derived_config(tmp_path, 'linprobe_paused', """
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=0, end=1, convert_to_iter_based=True)]
""", base=osp.join(DEMO, 'vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py'),
        extra_hooks=[dict(type='mae_mm.PauseAtIterHook', at_iters=[2], marker_dir=str(markers))])
    suite = write_suite(tmp_path, f"stages = dict(_delete_=True, linprobe=dict(config={linprobe!r}, "
                                  "metrics=dict(top1='accuracy/top1')))\n")
    work = str(tmp_path / 'slurm')
    env = dict(SLURM_CONF=slurm_cluster.conf, CPUS_PER_TASK=str(os.cpu_count()), OMP_NUM_THREADS='1')
    transfer(osp.join(demo_pretrain, 'epoch_40.pth'), '--suite', suite, '--work-dir', work, '--launcher', 'slurm',
             '--partition', slurm_cluster.partition, '--gpus', '1', check=True, env=env)
    manifest = read_manifest(work)
    job = manifest['stages']['linprobe']['points'][0]['job_id']
    deadline = time.time() + 300
    while not (markers / 'paused_2_rank0').exists():
        assert slurm_cluster.job(job).get('JobState') not in ('COMPLETED', 'FAILED', 'CANCELLED'), slurm_cluster.job(job)
        assert time.time() < deadline, 'the stage never reached iteration 2'
        time.sleep(0.5)
    try:
        subprocess.run(['scancel', job], env=slurm_cluster.env, check=True)
        slurm_cluster.wait_for(job, timeout=120, release_requeued=False)
        time.sleep(3)  # a job that requeued itself would be PENDING by now
        fields = slurm_cluster.job(job)
        assert fields['JobState'] == 'CANCELLED' and fields['Restarts'] == '0', fields
        log = ''.join(open(p).read() for p in glob.glob(osp.join(work, 'linprobe', '**', 'slurm-*.out'), recursive=True))
        assert 'cancelled (scancel): training saved ' in log and 'iter_2.pth; not requeueing. To resume from there: ' \
            'python tools/transfer.py ' in log, log[-3000:]
        status = transfer('--status', work, check=True, env=env).stdout
        assert f'linprobe: interrupted: job {job} CANCELLED' in status and 'the same command resumes it' in status, status
    finally:
        if manifest.get('collect_job'):  # it waited for the cancelled job
            subprocess.run(['scancel', manifest['collect_job']], env=slurm_cluster.env)


@pytest.mark.parametrize('name', ['demo', 'vit-base', 'vit-large', 'vit-huge', 'vit-base-all', 'vit-large-all',
                                  'vit-huge-all'])
def test_every_suite_names_existing_configs_and_cites_its_figures(name):
    suite = load_suite(osp.join(ROOT, 'configs', 'suites', f'{name}.py'), ROOT)
    # partial fine-tuning (the paper's Fig. 9, ViT-L only) is a stage of the ViT-L suites alone; the
    # paper's other evaluations are in the *-all suites (the demo has its robustness stand-ins)
    core = ('pretrain', 'finetune', 'linprobe', 'partial', 'coco', 'ade20k')
    own_data = ('detection', 'segmentation')  # the own-data suites' (tests/test_own_data.py)
    wanted = tuple(s for s in STAGE_NAMES if s not in own_data) if name.endswith('-all') else \
        core + ('robustness',) if name == 'demo' else core
    assert list(suite['stages']) == [s for s in wanted if s != 'partial' or name.startswith('vit-large')]
    size = {'demo': 'tiny', 'vit-base': 'base', 'vit-large': 'large', 'vit-huge': 'huge'}[name.replace('-all', '')]
    assert all(f'vit-{size}' in stage['config'] for stage in suite['stages'].values()), suite['stages']
    if name.endswith('-all'):
        assert all(suite['cited'][s] for s in STAGE_NAMES[STAGE_NAMES.index('robustness'):]), suite['cited']
        assert suite['stages']['robustness']['evaluates'] == 'finetune'
    assert suite['cited']['source'] and suite['cited']['finetune']['top1'] > 80
    assert not suite['stages']['pretrain']['train']
