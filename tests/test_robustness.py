"""The robustness evaluation: the 200-class logit restriction, CE and mCE against hand-computed
values, the test sets' folder checks, the `robustness` stage's place in the plan (which fine-tuned
checkpoint each point evaluates; refused before its fine-tune), and the stage end to end through
tools/transfer.py on the demo's stand-ins."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from PIL import Image

from conftest import ROOT
from mae_mm.datasets.class_lists import class_list
from mae_mm.evaluation.imagenet_c_reference import ALEXNET_TOP1_ERROR, BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS
from mae_mm.suite.errors import RunRefused, SuiteError
from mae_mm.suite.plan.evaluates import add_evaluation_stages, block_evaluations, choose, require_sources
from mae_mm.suite.plan.graph import RANDOM_INIT, build_stages, order
from mae_mm.suite.plan.suite import load_suite


# ------------------------------------------------------------------ metrics

def test_the_argmax_runs_over_the_subset_only():
    from mae_mm.evaluation.robustness_metrics import restricted_top1
    scores = torch.tensor([[0.0, 0.2, 0.9, 0.1, 0.0, 0.3],   # label 1: argmax 2 is outside {1, 3, 5}; inside it is 5
                           [0.0, 0.5, 0.1, 0.4, 0.9, 0.0],   # label 1: inside {1, 3, 5} the argmax is 1
                           [0.0, 0.1, 0.0, 0.2, 0.0, 0.6]])  # label 3: inside, 5
    labels = torch.tensor([1, 1, 3])
    assert restricted_top1(scores, labels, None) == pytest.approx(0.0)  # 2, 4, 5 against 1, 1, 3
    assert restricted_top1(scores, labels, [1, 3, 5]) == pytest.approx(100 / 3)
    scores[0, 5] = 0.1  # now 1 beats 5 inside the subset, while 2 still wins outside it
    assert restricted_top1(scores, labels, [1, 3, 5]) == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match=r'labels \[0\] are outside the scored subset'):
        restricted_top1(scores, torch.tensor([0, 1, 3]), [1, 3, 5])


def test_domain_top1_takes_its_subset_from_the_classifiers_class_list_and_its_domains_samples():
    from mae_mm.evaluation.robustness_metrics import DomainTop1
    metric = DomainTop1(domain='imagenet-r', subset=('b', 'd'))
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    samples = [dict(domain='imagenet-r', pred_score=torch.tensor([0.5, 0.2, 0.0, 0.3]), gt_label=torch.tensor([3])),
               dict(domain='imagenet-r', pred_score=torch.tensor([0.1, 0.2, 0.6, 0.1]), gt_label=torch.tensor([1])),
               dict(domain='imagenet-c', pred_score=torch.tensor([0.0, 0.0, 0.0, 1.0]), gt_label=torch.tensor([0]))]
    metric.process({}, samples)
    assert metric.compute_metrics(metric.results) == {'top1': 100.0}  # 'a' and 'c' dropped; the C sample not counted
    metric = DomainTop1(domain='imagenet-a', subset=('b', 'z'))
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    metric.process({}, [dict(samples[0], domain='imagenet-a')])
    with pytest.raises(ValueError, match=r"the classifier's 4 classes lack 1 of the subset's: \['z'\]"):
        metric.compute_metrics(metric.results)


def test_published_subsets_are_200_imagenet_wnids():
    in1k = class_list('imagenet-1k')
    assert len(in1k) == 1000 and in1k[0] == 'n01440764' and list(in1k) == sorted(in1k)
    for name in ('imagenet-a', 'imagenet-r'):
        subset = class_list(name)
        assert len(subset) == 200 and set(subset) <= set(in1k), name
    with pytest.raises(ValueError, match="class list 'imagenet-b'"):
        class_list('imagenet-b')


def test_corruption_error_and_mce_against_hand_computed_values():
    from mae_mm.evaluation.robustness_metrics import corruption_summary
    # every benchmark corruption at 50% error on every severity, gaussian noise at 10/20/30/40/50
    errors = {(c, s): 50.0 for c in BENCHMARK_CORRUPTIONS for s in range(1, 6)}
    errors.update({('gaussian_noise', s): 10.0 * s for s in range(1, 6)})
    errors.update({('speckle_noise', s): 60.0 for s in range(1, 6)})
    out = corruption_summary(errors, BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS[:1], (1, 2, 3, 4, 5), ALEXNET_TOP1_ERROR)
    # AlexNet's gaussian noise errors sum to 69.528 + 82.542 + 93.554 + 98.138 + 99.452 = 443.214 (%)
    assert out['CE/gaussian_noise'] == pytest.approx(100 * 150 / 443.214)
    # brightness: 45.14 + 48.502 + 54.048 + 62.166 + 72.44 = 282.296
    assert out['CE/brightness'] == pytest.approx(100 * 250 / 282.296)
    expected = [100 * sum(errors[c, s] for s in range(1, 6)) / (100 * sum(ALEXNET_TOP1_ERROR[c]))
                for c in BENCHMARK_CORRUPTIONS]
    assert out['mCE'] == pytest.approx(sum(expected) / 15)
    assert out['mean_error/gaussian_noise'] == pytest.approx(30.0)
    assert out['mean_error'] == pytest.approx((30.0 + 14 * 50.0) / 15)
    assert out['extra_mean_error'] == pytest.approx(60.0) and 'CE/speckle_noise' not in out  # apart, not in the mCE
    assert out['missing'] == '' and out['error/gaussian_noise/2'] == 20.0
    # a severity and a whole corruption missing: named, and nothing averaged over the rest
    del errors['frost', 3]
    errors = {k: v for k, v in errors.items() if k[0] != 'fog'}
    out = corruption_summary(errors, BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS[:2], (1, 2, 3, 4, 5), ALEXNET_TOP1_ERROR)
    assert math.isnan(out['mCE']) and math.isnan(out['mean_error']) and math.isnan(out['extra_mean_error'])
    assert out['missing'] == 'frost severity 3; fog; gaussian_blur'
    assert 'CE/frost' not in out and 'CE/snow' in out
    plain = corruption_summary({('a', s): 10.0 * s for s in (1, 2)}, ('a',), (), (1, 2), None)
    assert plain['mean_error'] == 15.0 and 'mCE' not in plain and 'CE/a' not in plain


def test_corruption_metric_counts_errors_per_corruption_and_severity():
    from mae_mm.evaluation.robustness_metrics import CorruptionError
    metric = CorruptionError(benchmark=('contrast',), extra=(), severities=(1, 2), normalizer=None)
    right, wrong = torch.tensor([0.9, 0.1]), torch.tensor([0.1, 0.9])
    samples = [dict(domain='imagenet-c', corruption='contrast', severity=1, pred_score=p, gt_label=torch.tensor([0]))
               for p in (right, right, right, wrong)]
    samples += [dict(domain='imagenet-c', corruption='contrast', severity=2, pred_score=p, gt_label=torch.tensor([0]))
                for p in (right, wrong)]
    samples.append(dict(domain='imagenet-r', pred_score=wrong, gt_label=torch.tensor([0])))
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    assert out['error/contrast/1'] == 25.0 and out['error/contrast/2'] == 50.0 and out['mean_error'] == 37.5
    with pytest.raises(ValueError, match="no AlexNet errors for \\['mine'\\]"):
        CorruptionError(benchmark=('mine',))


def test_a_classifier_trained_on_other_classes_is_refused_before_evaluation():
    from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
    from mae_mm.engine.classifier_classes_hook import classes_mismatch
    # an ImageNet fine-tune checkpoint records mmpretrain's class names: the same indices as the wnids
    assert classes_mismatch(IMAGENET_CATEGORIES, class_list('imagenet-1k')) == ''
    assert classes_mismatch(('a', 'b', 'c'), ('a', 'b', 'c')) == ''
    assert classes_mismatch(('a', 'b'), ('a', 'b', 'c', 'd')) == \
        "the classifier's 2 classes do not cover the test sets' 4: it lacks c, d"
    assert classes_mismatch(('a', 'c', 'b'), ('a', 'b', 'c')) == \
        "the classifier's 3 classes and the test sets' 3 differ from index 1 (c vs b)"


# ------------------------------------------------------------------ test sets

def _image(path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.new('RGB', (8, 8), (120, 30, 200)).save(path)


def test_class_folders_are_labelled_in_the_classifiers_classes_and_checked(tmp_path):
    from mae_mm.datasets.robustness import ClassFolderTestSet
    classes = ('a', 'b', 'c', 'd')
    for cls in ('b', 'd'):
        _image(str(tmp_path / 'r' / cls / '0.jpg'))
    (tmp_path / 'r' / 'README.txt').write_text('not a class')
    data = ClassFolderTestSet(data_root=str(tmp_path / 'r'), domain='imagenet-r', classes=classes, expected=('b', 'd'))
    assert [(d['gt_label'], d['domain']) for d in data.load_data_list()] == [(1, 'imagenet-r'), (3, 'imagenet-r')]
    assert data.metainfo['classes'] == classes
    with pytest.raises(ValueError, match=r"r: its class folders are not the 3 expected ones: missing c"):
        ClassFolderTestSet(data_root=str(tmp_path / 'r'), domain='x', classes=classes, expected=('b', 'c', 'd'))
    with pytest.raises(ValueError, match=r"r: its class folders are not the 1 expected ones: unexpected d"):
        ClassFolderTestSet(data_root=str(tmp_path / 'r'), domain='x', classes=classes, expected=('b',))
    with pytest.raises(ValueError, match=r"do not cover this set's: it lacks e"):
        ClassFolderTestSet(data_root=str(tmp_path / 'r'), domain='x', classes=classes, expected=('b', 'd', 'e'))


def test_imagenet_c_layouts_and_missing_severities(tmp_path):
    from mae_mm.datasets.robustness import CorruptedTestSet
    classes = ('a', 'b')
    for severity in (1, 2):
        for cls in classes:
            _image(str(tmp_path / 'c' / 'contrast' / str(severity) / cls / '0.JPEG'))
    for cls in classes:  # the archives' family folders kept
        _image(str(tmp_path / 'c' / 'noise' / 'gaussian_noise' / '1' / cls / '0.JPEG'))
    data = CorruptedTestSet(data_root=str(tmp_path / 'c'), corruptions=('contrast', 'gaussian_noise', 'fog'),
                            severities=(1, 2), classes=classes)
    seen = sorted((d['corruption'], d['severity'], d['gt_label']) for d in data.load_data_list())
    assert seen == [('contrast', 1, 0), ('contrast', 1, 1), ('contrast', 2, 0), ('contrast', 2, 1),
                    ('gaussian_noise', 1, 0), ('gaussian_noise', 1, 1)]
    _image(str(tmp_path / 'c' / 'contrast' / '2' / 'zz' / '0.JPEG'))
    with pytest.raises(ValueError, match=r"contrast/2: its class folders are not the 2 expected ones: unexpected zz"):
        CorruptedTestSet(data_root=str(tmp_path / 'c'), corruptions=('contrast',), severities=(1, 2), classes=classes)
    with pytest.raises(ValueError, match='none of the corruptions'):
        CorruptedTestSet(data_root=str(tmp_path / 'c'), corruptions=('fog',), classes=classes)


def test_the_demo_config_reads_every_stand_in_the_demo_data_writes():
    from mmengine.config import Config
    from mae_mm.demo_data import imagenet, imagenet_c, imagenet_r
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'demo', 'vit-tiny-p8_demo-robustness.py'))
    rendition, corrupted = cfg.test_dataloader.dataset.datasets
    assert tuple(cfg.robustness_classes) == tuple(sorted(imagenet.CLASSES))  # as mmpretrain lists class folders
    assert tuple(rendition.expected) == imagenet_r.CLASSES == tuple(cfg.test_evaluator[0].subset)
    assert tuple(corrupted.corruptions) == imagenet_c.CORRUPTIONS_USED
    assert tuple(cfg.test_evaluator[1].benchmark) == imagenet_c.BENCHMARK
    assert tuple(cfg.test_evaluator[1].extra) == imagenet_c.EXTRA


# ------------------------------------------------------------------ the stage in the plan

ROBUSTNESS = dict(config='r.py', gpus=1, train=False, metrics=dict(a='imagenet-a/top1'), select='a',
                  lower_is_better=False, evaluates='finetune')
FINETUNE = dict(config='f.py', gpus=1, train=True, metrics=dict(top1='accuracy/top1'), select='top1',
                lower_is_better=False)


def _plan(sweeps, seeds, random_init=False):
    stages = build_stages(dict(finetune=FINETUNE, robustness=ROBUSTNESS), sweeps, seeds, 'mae_mm', random_init)
    add_evaluation_stages(stages, dict(finetune=FINETUNE, robustness=ROBUSTNESS), study=False)
    return dict(stages=stages, launcher='local')


def test_robustness_has_a_point_per_seed_after_the_finetune_it_evaluates():
    manifest = _plan({'finetune:optim_wrapper.optimizer.lr': [0.1, 0.2]}, 2, random_init=True)
    points = manifest['stages']['robustness']['points']
    assert [(p['name'], p['seed'], p['upstream']) for p in points] == [
        ('seed=0', 0, None), ('seed=1', 1, None), ('random-init/seed=0', 0, RANDOM_INIT),
        ('random-init/seed=1', 1, RANDOM_INIT)]
    assert manifest['stages']['robustness']['needs'] == ['finetune']
    assert order(manifest['stages']) == ['finetune', 'robustness']


def test_each_seed_evaluates_its_checkpoint_of_the_sweeps_best_mean():
    manifest = _plan({'finetune:optim_wrapper.optimizer.lr': [0.1, 0.2]}, 2)
    fine = {(p['overrides']['optim_wrapper.optimizer.lr'], p['seed']): p
            for p in manifest['stages']['finetune']['points']}
    robust = manifest['stages']['robustness']['points']
    assert choose(manifest, robust[0]).state == 'waiting'
    for (lr, seed), top1 in {(0.1, 0): 70.0, (0.1, 1): 50.0, (0.2, 0): 62.0, (0.2, 1): 60.0}.items():
        fine[lr, seed].update(status='done', metrics=dict(top1=top1))  # means: 0.1 -> 60, 0.2 -> 61
    assert choose(manifest, robust[0]).point is fine[0.2, 0]  # not 0.1's seed 0, the best single run
    assert choose(manifest, robust[1]).point is fine[0.2, 1]
    fine[0.2, 1].update(status='failed', metrics=None)  # 0.2 now has one run: mean 62, still the best
    assert choose(manifest, robust[0]).point is fine[0.2, 0]
    block_evaluations(manifest)
    assert robust[1]['status'] == 'skipped' and 'has no done point of seed 1' in robust[1]['reason']
    block_evaluations(manifest, retry_failed=True)  # the failed fine-tune runs again: so may this
    assert robust[1]['status'] == 'pending'


def test_a_done_evaluation_of_a_point_no_longer_the_best_runs_again():
    manifest = _plan({'finetune:optim_wrapper.optimizer.lr': [0.1, 0.2]}, None)
    first, second = manifest['stages']['finetune']['points']
    robust = manifest['stages']['robustness']['points'][0]
    first.update(status='done', metrics=dict(top1=70.0))
    second.update(status='done', metrics=dict(top1=60.0))
    robust.update(status='done', metrics=dict(a=1.0), evaluated=dict(point=first['name'], overrides={}, checkpoint='x'))
    block_evaluations(manifest)
    assert robust['status'] == 'done'
    second['metrics'] = dict(top1=80.0)  # e.g. a later sweep point of the same chain
    block_evaluations(manifest)
    assert robust['status'] == 'pending' and second['name'] in robust['reason']


def test_on_slurm_an_evaluation_waits_for_its_finetune_job_or_for_the_sweep_to_end(tmp_path):
    from mae_mm.suite.execute.launch_slurm import _evaluated
    finetune = dict(FINETUNE, config='configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py')
    suite_stages = dict(finetune=finetune, robustness=ROBUSTNESS)

    def plan(sweeps):
        stages = build_stages(suite_stages, sweeps, 2, 'mae_mm')
        add_evaluation_stages(stages, suite_stages, study=False)
        return dict(stages=stages, launcher='slurm')

    manifest = plan({})  # no sweep: each seed's robustness job waits for its fine-tune job
    for i, point in enumerate(manifest['stages']['finetune']['points']):
        point.update(status='running', job_id=f'7_{i}')
    robust = manifest['stages']['robustness']['points']
    checkpoint, after = _evaluated(ROOT, str(tmp_path), manifest, robust[1])
    assert after == '7_1' and checkpoint == osp.join(str(tmp_path), 'finetune', 'seed=1', 'epoch_30.pth')
    assert robust[1]['evaluated'] == dict(point='seed=1', overrides={}, checkpoint=checkpoint)

    manifest = plan({'finetune:optim_wrapper.optimizer.lr': [0.1, 0.2]})  # a sweep: its best is not known yet
    for i, point in enumerate(manifest['stages']['finetune']['points']):
        point.update(status='running', job_id=f'8_{i}')
    robust = manifest['stages']['robustness']['points']
    assert _evaluated(ROOT, str(tmp_path), manifest, robust[0]) is None
    assert robust[0]['status'] == 'pending' and 'run the same command again' in robust[0]['reason']
    for point in manifest['stages']['finetune']['points']:  # ended: the best's seed-0 checkpoint, no wait
        point.update(status='done', metrics=dict(top1=point['overrides']['optim_wrapper.optimizer.lr']))
        folder = tmp_path / 'finetune' / point['name']
        folder.mkdir(parents=True)
        (folder / 'last_checkpoint').write_text(str(folder / 'epoch_30.pth'))
    checkpoint, after = _evaluated(ROOT, str(tmp_path), manifest, robust[0])
    assert after is None and checkpoint == str(tmp_path / 'finetune' / 'lr=0.2_seed=0' / 'epoch_30.pth')
    assert robust[0]['evaluated']['overrides'] == {'optim_wrapper.optimizer.lr': 0.2}


def test_robustness_alone_is_refused_until_its_finetune_has_run():
    manifest = _plan({}, None)
    robust = manifest['stages']['robustness']['points']
    with pytest.raises(RunRefused, match=r'stage robustness evaluates the finetune stage\'s checkpoints, and for the '
                                         r'run it waits for the finetune stage\'s points to end: run the finetune '
                                         r'stage first \(--only finetune'):
        require_sources(manifest, robust, running={'robustness'})
    require_sources(manifest, robust, running={'finetune', 'robustness'})  # both in one command: fine
    stages = build_stages(dict(robustness=ROBUSTNESS), {}, None, 'mae_mm')
    with pytest.raises(RunRefused, match='which this run has not trained: run the finetune stage first'):
        add_evaluation_stages(stages, dict(robustness=ROBUSTNESS), study=False)


def test_suites_refuse_an_evaluation_of_no_training_stage(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("stages = dict(robustness=dict(config='configs/demo/vit-tiny-p8_demo-robustness.py', train=False, "
                   "evaluates='finetune', metrics=dict(r='imagenet-r/top1')))\n")
    with pytest.raises(SuiteError, match=r"stages.robustness.evaluates='finetune' is not a training stage before it"):
        load_suite(str(bad), ROOT)
    suite = load_suite(osp.join(ROOT, 'configs', 'suites', 'demo.py'), ROOT)
    assert suite['stages']['robustness']['evaluates'] == 'finetune'


# ------------------------------------------------------------------ end to end, through tools/transfer.py

def transfer(*args):
    return subprocess.run([sys.executable, 'tools/transfer.py', *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)


@pytest.mark.slow
def test_the_robustness_stage_through_transfer_py_on_the_demo_stand_ins(tmp_path, demo_data, demo_pretrain):
    """A 1-epoch fine-tune swept over two lrs, then the demo robustness stage on the better one;
    its ImageNet-C copy read for 3 of the 14 corruptions the metric expects (a partial copy)."""
    demo = osp.join(ROOT, 'configs', 'demo')
    finetune = tmp_path / 'finetune_short.py'
    finetune.write_text(f"""_base_ = {osp.join(demo, 'vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py')!r}
train_cfg = dict(max_epochs=1, val_interval=1)
train_dataloader = dict(dataset=dict(indices=96))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
""")
    partial = ('gaussian_noise', 'contrast', 'speckle_noise')
    robustness = tmp_path / 'robustness_partial.py'
    robustness.write_text(f"""_base_ = {osp.join(demo, 'vit-tiny-p8_demo-robustness.py')!r}
test_dataloader = dict(dataset=dict(datasets=[_base_.test_dataloader.dataset.datasets[0],
                                              dict(_base_.test_dataloader.dataset.datasets[1], corruptions={partial!r})]))
""")
    suite = tmp_path / 'suite.py'
    suite.write_text(f"""_base_ = {osp.join(ROOT, 'configs', 'suites', 'demo.py')!r}
stages = dict(_delete_=True, finetune=dict(config={str(finetune)!r}, metrics=dict(top1='accuracy/top1')),
              robustness=dict(_base_.stages.robustness, config={str(robustness)!r}))
""")
    with open(osp.join(demo_pretrain, 'last_checkpoint')) as f:
        pretrained = f.read().strip()
    work = str(tmp_path / 'run')
    proc = transfer(pretrained, '--suite', str(suite), '--work-dir', work, '--only', 'robustness')
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert 'run the finetune stage first (--only finetune, or without --only)' in proc.stderr, proc.stderr
    assert not osp.exists(osp.join(work, 'manifest.json'))

    # a sweep of two lrs: the robustness stage evaluates the better one's checkpoint with its overrides
    proc = transfer(pretrained, '--suite', str(suite), '--work-dir', work,
                    '--sweep', 'finetune:optim_wrapper.optimizer.lr=4e-3,1e-9')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(osp.join(work, 'manifest.json')) as f:
        manifest = json.load(f)
    with open(osp.join(work, 'results.json')) as f:
        results = json.load(f)
    fine = {p['name']: p for p in manifest['stages']['finetune']['points']}
    chosen = next(p for p in fine.values() if p['overrides'] == results['finetune']['chosen']['overrides'])
    (point,) = manifest['stages']['robustness']['points']
    assert point['status'] == 'done' and point['evaluated']['point'] == chosen['name']
    with open(osp.join(work, 'finetune', chosen['name'], 'last_checkpoint')) as f:
        assert point['evaluated']['checkpoint'] == f.read().strip()
    with open(osp.join(work, 'robustness-eval', 'transfer.log')) as f:
        command = [line for line in f if line.startswith('$ ') and 'tools/test.py' in line][-1]
    lr = chosen['overrides']['optim_wrapper.optimizer.lr']
    assert point['evaluated']['checkpoint'] in command and f'optim_wrapper.optimizer.lr={lr}' in command

    with open(osp.join(work, 'robustness-eval', 'metrics.json')) as f:
        metrics = json.load(f)
    from mae_mm.demo_data import imagenet_c
    for corruption in partial:
        errors = [metrics[f'imagenet-c/error/{corruption}/{s}'] for s in imagenet_c.SEVERITIES]
        assert all(0 <= e <= 100 for e in errors), (corruption, errors)
        assert metrics[f'imagenet-c/mean_error/{corruption}'] == pytest.approx(sum(errors) / len(errors))
    unread = [c for c in imagenet_c.CORRUPTIONS_USED if c not in partial]
    assert metrics['imagenet-c/missing'] == '; '.join(unread)
    assert math.isnan(metrics['imagenet-c/mean_error']) and math.isnan(metrics['imagenet-c/extra_mean_error'])
    assert 'imagenet-c/mCE' not in metrics  # no AlexNet normaliser on the demo
    assert 0 <= metrics['imagenet-r/top1'] <= 100
    assert results['robustness'] == dict(imagenet_r_top1=metrics['imagenet-r/top1'], imagenet_c_error=None,
                                         imagenet_c_extra_error=None)
    with open(osp.join(work, 'results.md')) as f:
        table = f.read()
    assert f'| robustness imagenet_r_top1 (%) | {metrics["imagenet-r/top1"]:.4g} |' in table, table
    assert '| robustness imagenet_c_error (%) | missing |' in table, table
