"""Studies (tools/transfer.py --pretrain CONFIG --pretrain-sweep ...): the plan's graph (pretraining
points, transfers behind them, seeds along each chain, the random-init row), the final checkpoint a
pretraining ends with, dependants of a pretraining that ended without it, the study table and its
figure, --status's grid without torch, the refusals before anything runs, and two-point studies
run for real: locally with a kill and a re-run, and on a real single-node Slurm with a cancelled
pretraining job whose dependants are skipped, then resubmitted behind it."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from mae_mm.suite.errors import RunRefused
from mae_mm.suite.plan.graph import RANDOM_INIT, block_dependants, build_stages, point_weights, to_run
from mae_mm.suite.plan.points import parse_sweeps, sweeps_of_stage
from mae_mm.suite.plan.study import final_checkpoint, gpus_of, load_config, study_record, study_stages
from mae_mm.suite.report.results import collect
from mae_mm.suite.report.study import collect_study, study_table
from mae_mm.suite.report.study_chart import numeric_keys, study_chart
from mae_mm.suite.report.tables import table
from reliability_utils import run, short_schedule

DEMO = osp.join(ROOT, 'configs', 'demo')
DEMO_PRETRAIN = osp.join(DEMO, 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py')
LINPROBE = dict(config='configs/demo/vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py', gpus=1, train=True,
                metrics=dict(top1='accuracy/top1'), select='top1', lower_is_better=False)
PRETRAIN_EVAL = dict(config='configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py', gpus=1, train=False,
                     metrics=dict(loss='recon/mse'), select='loss', lower_is_better=True)
PARTIAL = dict(LINPROBE, config='configs/demo/vit-tiny-p8_1xb32-partial-last1blk-coslr-30e_demo-finetune.py')


# ---------------------------------------------------------------- the plan: a graph of chains

def demo_study(tmp_path, sweeps=('model.encoder.mask_ratio=0.5,0.75',), seeds=2, random_init=True, transfer=()):
    study = study_record(DEMO_PRETRAIN, parse_sweeps(list(sweeps)), seeds, random_init)
    stages = dict(pretrain=PRETRAIN_EVAL, linprobe=LINPROBE, partial=PARTIAL)
    work = str(tmp_path / 'study')
    manifest = dict(study=study, checkpoint=None, launcher='local', suite=dict(path='configs/suites/demo.py'),
                    stages=study_stages(work, study, stages, parse_sweeps(list(transfer))))
    return work, manifest


def test_a_study_is_a_graph_of_chains_from_each_pretraining_point(tmp_path):
    work, manifest = demo_study(tmp_path, transfer=('partial:model.backbone.trainable_blocks=1,2',))
    study, stages = manifest['study'], manifest['stages']
    assert study['defaults'] == {'model.encoder.mask_ratio': 0.75} and study['sha256']
    assert list(stages) == ['pretraining', 'pretrain', 'linprobe', 'partial']
    pretraining = stages['pretraining']['points']
    assert [p['name'] for p in pretraining] == ['mask_ratio=0.5_seed=0', 'mask_ratio=0.5_seed=1',
                                                'mask_ratio=0.75_seed=0', 'mask_ratio=0.75_seed=1']
    first = pretraining[0]
    assert first['overrides'] == {'model.encoder.mask_ratio': 0.5} and first['seed'] == 0
    # the demo pretraining's 40 epochs end with epoch_40.pth in the point's folder
    assert first['checkpoint'] == osp.join(osp.abspath(work), 'pretraining', first['name'], 'epoch_40.pth')
    assert stages['pretraining']['needs'] == [] and stages['linprobe']['needs'] == ['pretraining']
    # the evaluation runs on the study's pretraining config with each point's own overrides and seed
    evaluation = stages['pretrain']
    assert evaluation['stage']['config'] == study['config'] == DEMO_PRETRAIN
    assert [(p['name'], p['overrides'], p['seed'], p['upstream']) for p in evaluation['points']] == [
        (p['name'], p['overrides'], p['seed'], p['name']) for p in pretraining]
    # a transfer point per pretraining point (its seed) and per random-init seed; no pretraining keys
    linprobe = stages['linprobe']['points']
    assert [(p['name'], p['seed'], p['upstream'], p['overrides']) for p in linprobe] == [
        (p['name'], p['seed'], p['name'], {}) for p in pretraining] + [
        ('random-init_seed=0', 0, RANDOM_INIT, {}), ('random-init_seed=1', 1, RANDOM_INIT, {})]
    # a stage's own sweep: its points under each chain; the other stages do not get it
    partial = [p['name'] for p in stages['partial']['points']]
    assert partial[:2] == ['mask_ratio=0.5_seed=0/trainable_blocks=1', 'mask_ratio=0.5_seed=0/trainable_blocks=2']
    assert len(partial) == 2 * (4 + 2)
    # what each point starts from
    assert point_weights(manifest, linprobe[0]) == first['checkpoint']
    assert point_weights(manifest, linprobe[-1]) is None
    order = [p['stage'] for p in to_run(manifest, retry_failed=False)]
    assert order == sorted(order, key=['pretraining', 'pretrain', 'linprobe', 'partial'].index)


def test_one_setting_without_seeds_is_the_default_point(tmp_path):
    _, manifest = demo_study(tmp_path, sweeps=(), seeds=None, random_init=False)
    assert [p['name'] for p in manifest['stages']['pretraining']['points']] == ['default']
    assert [p['name'] for p in manifest['stages']['linprobe']['points']] == ['default']


def test_stage_sweeps_and_the_suites_random_init_row():
    sweeps = parse_sweeps(['optim_wrapper.optimizer.lr=1,2', 'partial:model.backbone.trainable_blocks=1,4'])
    assert sweeps_of_stage(sweeps, 'linprobe') == {'optim_wrapper.optimizer.lr': [1, 2]}
    assert sweeps_of_stage(sweeps, 'partial') == {'optim_wrapper.optimizer.lr': [1, 2],
                                                  'model.backbone.trainable_blocks': [1, 4]}
    with pytest.raises(ValueError, match='swept twice'):
        parse_sweeps(['a=1', 'a=2'])
    with pytest.raises(ValueError, match='--seeds'):
        parse_sweeps(['partial:randomness.seed=1,2'])
    stages = build_stages(dict(pretrain=PRETRAIN_EVAL, linprobe=LINPROBE), {}, 2, 'mae_mm', random_init=True)
    assert [p['name'] for p in stages['pretrain']['points']] == ['']
    assert [(p['name'], p['upstream']) for p in stages['linprobe']['points']] == [
        ('seed=0', None), ('seed=1', None), ('random-init/seed=0', RANDOM_INIT), ('random-init/seed=1', RANDOM_INIT)]


def test_the_final_checkpoint_follows_the_schedule_and_odd_hooks_are_refused(tmp_path):
    cfg = load_config(DEMO_PRETRAIN, {'train_cfg.max_epochs': 7})
    assert final_checkpoint(cfg, '/w') == '/w/epoch_7.pth'
    cfg = load_config(DEMO_PRETRAIN, {'train_cfg': dict(_delete_=True, type='IterBasedTrainLoop', max_iters=30),
                                      'default_hooks.checkpoint.by_epoch': False})
    assert final_checkpoint(cfg, '/w') == '/w/iter_30.pth'
    with pytest.raises(RunRefused, match='out_dir'):
        final_checkpoint(load_config(DEMO_PRETRAIN, {'default_hooks.checkpoint.out_dir': '/elsewhere'}), '/w')
    assert gpus_of('configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py') == 8
    assert gpus_of(DEMO_PRETRAIN) == 1


# ---------------------------------------------------------------- a pretraining that ended without its checkpoint

def test_dependants_of_an_unfinished_pretraining_are_skipped_then_run_again(tmp_path):
    _, manifest = demo_study(tmp_path, sweeps=('model.encoder.mask_ratio=0.5,0.75',), seeds=None)
    first, second = manifest['stages']['pretraining']['points']
    first['status'] = 'done'
    second.update(status='interrupted', job_id='12')
    dependants = [p for s in ('pretrain', 'linprobe', 'partial') for p in manifest['stages'][s]['points']
                  if p['upstream'] == second['name']]
    for i, point in enumerate(dependants):
        point.update(status='running' if i else 'interrupted', job_id=str(20 + i))  # 20: cancelled by Slurm
    others = [p for s in ('pretrain', 'linprobe') for p in manifest['stages'][s]['points'] if p not in dependants]
    cancelled = block_dependants(manifest)
    assert cancelled == dependants  # each had a job: the caller scancels them
    for point in dependants:
        assert point['status'] == 'skipped' and point['blocked_by'] == second['name'], point
        assert 'ended interrupted: the next run resubmits it' in point['reason'], point['reason']
    assert all(p['status'] == 'pending' for p in others)
    # the next command: the pretraining point resumes and its dependants run again behind it
    runs = to_run(manifest, retry_failed=False)
    assert second in runs and all(p in runs for p in dependants)
    assert all(p['status'] == 'pending' and p['blocked_by'] is None for p in dependants)
    # a failed pretraining: its dependants wait for --retry-failed
    second['status'] = 'failed'
    block_dependants(manifest)
    assert all('--retry-failed' in p['reason'] for p in dependants)
    assert not any(p in to_run(manifest, retry_failed=False) for p in dependants + [second])
    assert all(p in to_run(manifest, retry_failed=True) for p in dependants + [second])


# ---------------------------------------------------------------- the table and the figure

def finished_study(tmp_path):
    """A study manifest with every point done: linprobe top1 = 40 + 20 x mask ratio + seed, random init 30 + seed."""
    _, manifest = demo_study(tmp_path, sweeps=('model.encoder.mask_ratio=0.5,0.75,0.9',), seeds=2,
                             transfer=('partial:model.backbone.trainable_blocks=1,2',))
    ratio = {p['name']: p['overrides']['model.encoder.mask_ratio'] for p in manifest['stages']['pretraining']['points']}
    for stage, record in manifest['stages'].items():
        for point in record['points']:
            point['status'] = 'done'
            if stage == 'pretraining':
                point['metrics'] = {}
            elif stage == 'pretrain':
                point['metrics'] = dict(loss=ratio[point['name']] / 10)
            else:
                base = 30.0 if point['upstream'] == RANDOM_INIT else 40 + 20 * ratio[point['upstream']]
                bonus = point['overrides'].get('model.backbone.trainable_blocks', 0)
                point['metrics'] = dict(top1=base + point['seed'] + bonus)
    return manifest


def test_study_table_rows_columns_mean_std_n_and_the_default_marked(tmp_path):
    results = collect_study(finished_study(tmp_path))
    assert [c['id'] for c in results['columns']] == [
        'pretrain/loss', 'linprobe/top1', 'partial/{"model.backbone.trainable_blocks": 1}/top1',
        'partial/{"model.backbone.trainable_blocks": 2}/top1']
    assert [r['label'] for r in results['rows']] == ['mask_ratio=0.5', 'mask_ratio=0.75', 'mask_ratio=0.9',
                                                     'random init, this transfer recipe']
    assert [r['default'] for r in results['rows']] == [False, True, False, False]
    half = results['rows'][0]['cells']
    assert half['linprobe/top1'] == dict(mean=50.5, std=pytest.approx(0.5 ** 0.5), n=2, values=[50.0, 51.0])
    assert half['partial/{"model.backbone.trainable_blocks": 2}/top1']['mean'] == 52.5
    assert half['pretrain/loss']['mean'] == pytest.approx(0.05)
    scratch = results['rows'][-1]
    assert scratch['random_init'] and 'pretrain/loss' not in scratch['cells']
    assert scratch['cells']['linprobe/top1']['mean'] == 30.5
    text = study_table(results)
    assert '| **mask_ratio=0.75 (default)** | 0.075 ± 0 (2) | 55.5 ± 0.71 (2) |' in text, text
    assert '| random init, this transfer recipe | - | 30.5 ± 0.71 (2) |' in text, text
    assert 'partial fine-tune trainable_blocks=2 top1 (%)' in text
    json.dumps(results)  # results.json is plain JSON
    assert numeric_keys(results['study']) == ['model.encoder.mask_ratio']
    study_chart(results, str(tmp_path / 'results.png'))
    assert osp.getsize(tmp_path / 'results.png') > 10000


def test_a_suite_runs_random_init_row_is_its_own_column(tmp_path):
    stages = build_stages(dict(linprobe=LINPROBE), {}, 2, 'mae_mm', random_init=True)
    for point in stages['linprobe']['points']:
        point.update(status='done', metrics=dict(top1=(20.0 if point['upstream'] == RANDOM_INIT else 60.0)
                                                 + 2 * point['seed']))
    manifest = dict(checkpoint=dict(path='/c.pth', sha256='ab' * 32, kind='mae_mm', converted=None),
                    suite=dict(path='s.py', cited={}), stages=stages)
    results = collect(manifest)
    assert results['linprobe']['top1'] == 61.0 and results['random_init']['linprobe']['top1'] == 21.0
    assert results['random_init']['linprobe']['chosen']['n'] == 2
    text = table(manifest, results)
    assert '| metric | ours | random init, this transfer recipe | cited | ours - cited |' in text, text
    assert '| linear probe top1 (%) | 61 ± 1.4 | 21 ± 1.4 | - | - |' in text, text


# ---------------------------------------------------------------- --status's grid, without torch

def test_status_shows_the_grid_without_torch_then_writes_the_study_outputs(tmp_path):
    from reliability_utils import status_without
    manifest = finished_study(tmp_path)
    manifest.update(version=1, created='2026-01-01 00:00:00', partition=None,
                    suite=dict(path='configs/suites/demo.py', sha256='cd' * 32, cited={}))
    last = manifest['stages']['pretraining']['points'][-1]
    last.update(status='failed', reason='exit 1: RuntimeError: boom', metrics=None)
    for record in manifest['stages'].values():
        for point in record['points']:
            if point['upstream'] == last['name']:
                point.update(status='pending', metrics=None)
    block_dependants(manifest)
    work = tmp_path / 'run'
    work.mkdir()
    (work / 'manifest.json').write_text(json.dumps(manifest))
    blocked = ('torch', 'mmengine', 'mmcv')
    proc = status_without(blocked, work, tmp_path / 'blocked')
    assert proc.returncode == 1, proc.stderr  # a failed point
    lines = proc.stdout.splitlines()
    assert lines[1].split() == ['point', 'pretraining', 'pretrain', 'linprobe', 'partial']
    assert lines[2].split() == ['mask_ratio=0.5_seed=0', 'done', 'done', '0.05', 'done', '50', 'done', '2/2']
    assert lines[7].split() == ['mask_ratio=0.9_seed=1', 'failed', 'skipped', 'skipped', 'skipped', '2/2']
    assert lines[8].split() == ['random-init_seed=0', 'done', '30', 'done', '2/2']
    assert 'pretraining/mask_ratio=0.9_seed=1: failed: exit 1: RuntimeError: boom' in proc.stdout
    assert ('linprobe/mask_ratio=0.9_seed=1: skipped: pretraining mask_ratio=0.9_seed=1 ended failed: it runs '
            'again when that point does (--retry-failed)') in proc.stdout, proc.stdout
    results = json.load(open(work / 'results.json'))  # every point has ended: the study's outputs
    assert [r['cells']['linprobe/top1']['n'] for r in results['rows']] == [2, 2, 1, 2]
    assert '| **mask_ratio=0.75 (default)** |' in proc.stdout
    assert osp.getsize(work / 'results.png') > 0 and osp.isfile(work / 'results.md')


# ---------------------------------------------------------------- refusals, before anything runs

def transfer(*args, check=False, env=None, timeout=600):
    return run('tools/transfer.py', *args, check=check, threads=1, env=env, timeout=timeout)


def write_suite(tmp_path, stages: str) -> str:
    path = tmp_path / 'suite.py'
    path.write_text(f"_base_ = {osp.join(ROOT, 'configs', 'suites', 'demo.py')!r}\n"
                    f"stages = dict(_delete_=True, {stages})\n")
    return str(path)


SUITE_STAGES = "pretrain=_base_.stages.pretrain, linprobe=_base_.stages.linprobe"


def test_bad_grids_models_data_and_work_dirs_are_refused(tmp_path, demo_data):
    suite = write_suite(tmp_path, SUITE_STAGES)
    work = str(tmp_path / 'study')
    study = ('--pretrain', DEMO_PRETRAIN, '--suite', suite, '--work-dir', work)
    cases = [
        (('--pretrain-sweep', 'model.encoder.mask_ratioo=0.5,0.9'),
         f'--pretrain-sweep: {DEMO_PRETRAIN} has no model.encoder.mask_ratioo'),
        (('--pretrain-sweep', 'model.encoder.arch=tiny,small'),
         'pretraining point arch=small_seed=0 ({\'model.encoder.arch\': \'small\'}) builds an encoder that stage '
         'linprobe (configs/demo/vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py, model.backbone) cannot load: '
         'embed_dim 384 vs 192, depth 12 vs 6, num_heads 6 vs 3'),
        (('--pretrain-sweep', 'train_dataloader.dataset.data_root=/nonexistent/photos'), '/nonexistent/photos'),
        (('--sweep', 'coco:optim_wrapper.optimizer.lr=1,2'), '--sweep: coco: names no stage this command runs'),
        (('--pretrain-sweep', 'linprobe:model.encoder.mask_ratio=0.5'), 'the pretraining grid takes no STAGE: prefix'),
    ]
    for args, message in cases:
        proc = transfer(*study, *args, '--seeds', '1')
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    assert not osp.exists(osp.join(work, 'manifest.json'))
    proc = transfer(DEMO_PRETRAIN, '--pretrain', DEMO_PRETRAIN, '--suite', suite)
    assert proc.returncode == 2 and 'not both' in proc.stderr, proc.stderr
    # a plan that passes, then work dirs that hold other runs
    proc = transfer(*study, '--pretrain-sweep', 'model.encoder.mask_ratio=0.5,0.9', '--random-init', '--dry-run')
    assert proc.returncode == 0 and '7 point(s) to run' in proc.stdout, proc.stdout + proc.stderr
    assert 'would run linprobe random-init: ' in proc.stdout and ' from random-init ' in proc.stdout, proc.stdout
    os.makedirs(work)
    other = dict(version=1, created='x', launcher='local', stages={}, suite=dict(path=suite),
                 study=dict(config='/other/pretrain.py', sha256='e' * 64))
    json.dump(other, open(osp.join(work, 'manifest.json'), 'w'))
    proc = transfer(*study)
    assert proc.returncode == 2 and 'holds the study of /other/pretrain.py' in proc.stderr, proc.stderr
    assert f'this command is the study of {DEMO_PRETRAIN}' in proc.stderr, proc.stderr
    json.dump(dict(other, study=None, checkpoint=dict(path='/c.pth', sha256='f' * 64)),
              open(osp.join(work, 'manifest.json'), 'w'))
    proc = transfer(*study)
    assert proc.returncode == 2 and 'holds the suite run of /c.pth' in proc.stderr, proc.stderr


# ---------------------------------------------------------------- two-point studies, run for real

def short_configs(tmp_path):
    """A demo pretraining of 3 epochs on 256 images (no watch hooks) and a 1-epoch linear probe on
    128 images, and a suite of the pretraining evaluation and that probe."""
    pretrain = tmp_path / 'pretrain_short.py'
    pretrain.write_text(f"""_base_ = {DEMO_PRETRAIN!r}
train_cfg = dict(max_epochs=3, val_interval=3)
train_dataloader = dict(dataset=dict(indices=256))
custom_hooks = [h for h in _base_.custom_hooks if h.type not in ('mae_mm.ReconstructionVisHook', 'mae_mm.KNNProbeHook')]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
""" + short_schedule(3))
    linprobe = tmp_path / 'linprobe_short.py'
    linprobe.write_text(f"""_base_ = {osp.join(DEMO, 'vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py')!r}
train_cfg = dict(max_epochs=1, val_interval=1)
train_dataloader = dict(dataset=dict(indices=128))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
""")
    suite = write_suite(tmp_path, f"pretrain=_base_.stages.pretrain, linprobe=dict(config={str(linprobe)!r}, "
                                  "metrics=dict(top1='accuracy/top1'))")
    return str(pretrain), suite


def read_manifest(work):
    with open(osp.join(work, 'manifest.json')) as f:
        return json.load(f)


def points_of(manifest, stage):
    return {p['name']: p for p in manifest['stages'][stage]['points']}


@pytest.mark.slow
def test_a_two_point_study_killed_and_run_again_locally(tmp_path, demo_data):
    pretrain, suite = short_configs(tmp_path)
    work = str(tmp_path / 'study')
    args = ['tools/transfer.py', '--pretrain', pretrain, '--pretrain-sweep', 'model.encoder.mask_ratio=0.5,0.75',
            '--suite', suite, '--random-init', '--work-dir', work]
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    second = osp.join(work, 'pretraining', 'mask_ratio=0.75')
    deadline = time.time() + 600
    while not osp.exists(osp.join(second, 'epoch_1.pth')):  # killed in the second point's pretraining
        assert proc.poll() is None and time.time() < deadline, 'the study ended before the second pretraining saved'
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = read_manifest(work)
    assert [p['status'] for p in killed['stages']['pretraining']['points']] == ['done', 'running']
    status = transfer('--status', work, check=True).stdout
    assert 'pretraining/mask_ratio=0.75: interrupted' in status, status

    again = transfer(*args[1:], check=True).stdout
    assert 'pretraining/mask_ratio=0.75: resuming from its newest whole checkpoint' in again, again
    assert 'pretraining/mask_ratio=0.5: started' not in again, again  # done: not run again
    log = open(osp.join(second, 'transfer.log')).read()
    assert 'resumed epoch: 1' in log, log[-3000:]
    final = read_manifest(work)
    assert all(p['status'] == 'done' for s in final['stages'].values() for p in s['points']), final
    # each point's evaluation on the study's config at that point's mask ratio
    evaluations = points_of(final, 'pretrain')
    for name, ratio in (('mask_ratio=0.5', 0.5), ('mask_ratio=0.75', 0.75)):
        log = open(osp.join(work, 'pretrain-eval', name, 'transfer.log')).read()
        assert f'tools/test.py {pretrain} {osp.join(work, "pretraining", name, "epoch_3.pth")}' in log, log[-2000:]
        assert f'model.encoder.mask_ratio={ratio}' in log, log[-2000:]
    assert evaluations['mask_ratio=0.5']['metrics'] != evaluations['mask_ratio=0.75']['metrics']
    # the transfers start from their point's checkpoint; the random-init row from none
    log = open(osp.join(work, 'linprobe', 'mask_ratio=0.75', 'transfer.log')).read()
    assert f'model.backbone.init_cfg.checkpoint={osp.join(work, "pretraining", "mask_ratio=0.75", "epoch_3.pth")}' \
        in log, log[-3000:]
    log = open(osp.join(work, 'linprobe', 'random-init', 'transfer.log')).read()
    assert 'model.backbone.init_cfg=None' in log and 'epoch_3.pth' not in log, log[-3000:]
    results = json.load(open(osp.join(work, 'results.json')))
    assert [r['label'] for r in results['rows']] == ['mask_ratio=0.5', 'mask_ratio=0.75',
                                                     'random init, this transfer recipe']
    assert results['rows'][1]['default'] and results['rows'][1]['cells']['pretrain/loss']['n'] == 1
    assert results['rows'][2]['cells']['linprobe/top1']['n'] == 1
    for name in ('results.md', 'results.png', 'curves.png'):
        assert osp.getsize(osp.join(work, name)) > 0, name
    assert '| **mask_ratio=0.75 (default)** |' in again, again


@pytest.mark.slow
def test_a_two_point_study_on_a_real_slurm_with_a_cancelled_pretraining(tmp_path, demo_data, slurm_cluster):
    pretrain, suite = short_configs(tmp_path)
    work = str(tmp_path / 'slurm-study')
    # the probe's own sweep: an array of two tasks behind each pretraining task, each its own points file
    args = ('--pretrain', pretrain, '--pretrain-sweep', 'model.encoder.mask_ratio=0.5,0.75', '--suite', suite,
            '--sweep', 'linprobe:optim_wrapper.optimizer.lr=0.1,0.2', '--work-dir', work, '--launcher', 'slurm',
            '--partition', slurm_cluster.partition, '--gpus', '1')
    # one job at a time on this node (every CPU per task), so the gloo ports never meet; no requeue on
    # a signal: a signalled pretraining saves, stops and ends interrupted (the restart limit reached)
    env = dict(SLURM_CONF=slurm_cluster.conf, CPUS_PER_TASK=str(os.cpu_count()), OMP_NUM_THREADS='1',
               MAX_RESTARTS='0')
    out = transfer(*args, check=True, env=env).stdout
    manifest = read_manifest(work)
    first, second = manifest['stages']['pretraining']['points']
    array = first['job_id'].split('_')[0]
    assert (first['job_id'], second['job_id']) == (f'{array}_0', f'{array}_1'), out  # the pretraining: one array
    assert f'linprobe/mask_ratio=0.75/lr=0.2: submitted as job' in out and f'after job {second["job_id"]}' in out, out
    probes = points_of(manifest, 'linprobe')
    assert probes['mask_ratio=0.5/lr=0.1']['job_id'].split('_')[0] == probes['mask_ratio=0.5/lr=0.2']['job_id'][:-2]
    deadline = time.time() + 600
    while not osp.exists(osp.join(work, 'pretraining', 'mask_ratio=0.75', 'epoch_1.pth')):
        assert time.time() < deadline, slurm_cluster.logs()
        time.sleep(0.2)
    subprocess.run(['scancel', '--signal=USR1', '--batch', second['job_id']], env=dict(os.environ, **env), check=True)
    assert slurm_cluster.wait_for(second['job_id'], timeout=300)['ExitCode'] == '75:0'
    fields = slurm_cluster.wait_for(manifest['collect_job'], timeout=600)
    assert fields['JobState'] == 'COMPLETED', fields
    status = transfer('--status', work, check=True, env=env).stdout
    assert 'pretraining/mask_ratio=0.75: interrupted' in status, status
    for point in ('pretrain/mask_ratio=0.75', 'linprobe/mask_ratio=0.75/lr=0.1', 'linprobe/mask_ratio=0.75/lr=0.2'):
        assert (f'{point}: skipped: pretraining mask_ratio=0.75 ended interrupted: the next run '
                'resubmits it behind the resumed pretraining') in status, status
    for point in ('pretrain/mask_ratio=0.5', 'linprobe/mask_ratio=0.5/lr=0.1', 'linprobe/mask_ratio=0.5/lr=0.2'):
        assert f'{point}: done' in status, status
    blocked = points_of(read_manifest(work), 'linprobe')['mask_ratio=0.75/lr=0.1']
    assert slurm_cluster.job(blocked['job_id'])['JobState'] == 'CANCELLED'  # not left waiting forever
    assert not osp.exists(osp.join(work, 'results.json'))

    again = transfer(*args, check=True, env=env).stdout
    manifest = read_manifest(work)
    resubmitted = points_of(manifest, 'pretraining')['mask_ratio=0.75']['job_id']
    assert resubmitted != second['job_id'] and f'after job {resubmitted}' in again, again
    assert 'mask_ratio=0.5: submitted' not in again, again
    fields = slurm_cluster.wait_for(manifest['collect_job'], timeout=600)
    assert fields['JobState'] == 'COMPLETED', fields
    log = open(osp.join(work, 'pretraining', 'mask_ratio=0.75', f'slurm-{resubmitted}.out')).read()
    assert 'resumed epoch:' in log, log[-3000:]  # from the iteration the signal saved, not from the start
    results = json.load(open(osp.join(work, 'results.json')))  # written by the collection job
    assert [r['label'] for r in results['rows']] == ['mask_ratio=0.5', 'mask_ratio=0.75']
    columns = ['pretrain/loss'] + [f'linprobe/{{"optim_wrapper.optimizer.lr": {lr}}}/top1' for lr in (0.1, 0.2)]
    assert [c['id'] for c in results['columns']] == columns
    for row in results['rows']:
        assert all(row['cells'][c]['n'] == 1 for c in columns), row
    for point in points_of(manifest, 'linprobe').values():  # each task trained its own point, in its own folder
        assert osp.isfile(osp.join(work, 'linprobe', point['name'], 'metrics.json')), point
        log = open(point['log']).read()
        assert f'in {osp.join(work, "linprobe", point["name"])}' in log, log[-2000:]  # slurm_job.sh's line
        assert f'lr={point["overrides"]["optim_wrapper.optimizer.lr"]},' in log, log[-2000:]  # the config dump
    eval_log = open(osp.join(work, 'pretrain-eval', 'mask_ratio=0.75',
                             f'slurm-{points_of(manifest, "pretrain")["mask_ratio=0.75"]["job_id"]}.out')).read()
    assert f'evaluating {osp.join(work, "pretraining", "mask_ratio=0.75", "epoch_3.pth")}' in eval_log, eval_log[-2000:]


def test_the_overhead_benchmark_reruns_a_study_with_its_grid(tmp_path):
    from mae_mm.suite.overhead import rerun_command
    _, manifest = demo_study(tmp_path, sweeps=('model.encoder.mask_ratio=0.5,0.9', 'model.decoder.depth=1,2'))
    manifest['partition'] = None
    command = rerun_command(ROOT, '/w', manifest)
    assert command[1:] == [osp.join(ROOT, 'tools', 'transfer.py'), '--pretrain', DEMO_PRETRAIN, '--pretrain-sweep',
                           'model.encoder.mask_ratio=0.5,0.9', 'model.decoder.depth=1,2', '--seeds', '2',
                           '--random-init', '--suite', 'configs/suites/demo.py', '--work-dir', '/w',
                           '--launcher', 'local']
