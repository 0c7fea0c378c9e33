"""Schedules follow the run's length: overriding train_cfg.max_epochs / max_iters alone gives the
same schedule over the new length, or is refused before the run starts, naming the keys.

The end-to-end tests train the demo configs through tools/train.py with only the length changed
(and the logger writing every iteration, which changes nothing in the schedule), then compare the
logged lr with the closed form at the end of the warmup, at the middle and at the last iteration
(tests/helpers/lr_checks.py). The fine-tuning, COCO and ADE20K demos' are their learning tests' training
runs (tests/test_finetune.py, tests/test_coco_demo.py, tests/test_ade20k_demo.py).
The warmups keep their absolute length (the paper's schedule-length study, Fig. 7, keeps 40 warmup
epochs at every length): a warmup scaled with the length fails these checks.
"""
import copy
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from conftest import ROOT, read_scalars, run_tool
from helpers.lr_checks import EVERY_ITERATION, check_points, check_warmup, logged_lr
from mae_mm.engine.step_schedule import FractionalMultiStepLR, milestones_at
from mae_mm.launch.schedule_checks import schedule_problems
from reliability_utils import run

DEMO = osp.join(ROOT, 'configs', 'demo')
DEMO_PRETRAIN = osp.join(DEMO, 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py')
COCO_B = osp.join(ROOT, 'configs', 'coco', 'mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py')
COCO_H = osp.join(ROOT, 'configs', 'coco', 'mask-rcnn_vit-huge-p14_16xb4-amp-lsj-75e_coco.py')
TRAINING_CONFIGS = sorted(
    osp.join(dp, f) for dp, _, fs in os.walk(osp.join(ROOT, 'configs'))
    for f in fs if f.endswith('.py') and '_base_' not in dp and 'suites' not in dp)


# --- the step schedule in fractions ------------------------------------------------------------------------------

def built(cfg, **length):
    """The schedulers of ``cfg`` (a Config, or a config file) with ``train_cfg`` updated by ``length``,
    as mmengine's Runner builds them (``end`` defaulting to the loop's length; epoch-based ones
    converted at 1 iteration per epoch), on a one-parameter optimizer."""
    from mae_mm.registry import PARAM_SCHEDULERS
    cfg = Config.fromfile(cfg) if isinstance(cfg, str) else copy.deepcopy(cfg)
    cfg.merge_from_dict({f'train_cfg.{k}': v for k, v in length.items()})
    optimizer = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0))
    out = []
    for sched in cfg.param_scheduler:
        sched = dict(sched, _scope_='mae_mm')
        sched.setdefault('end', cfg.train_cfg.max_epochs if sched.get('by_epoch', True) else cfg.train_cfg.max_iters)
        out.append(PARAM_SCHEDULERS.build(sched, default_args=dict(optimizer=optimizer, epoch_length=1)))
    return out


def test_fractional_steps_reproduce_the_published_vitdet_milestones():
    # ViTDet's 100-epoch B/L schedule (cited): steps at 163,889 and 177,546 of 184,375; its 75-epoch H
    # schedule takes both x 0.75 (floored): 122,916 and 133,159 of 138,281
    assert sorted(built(COCO_B)[1].milestones) == [163889, 177546]
    assert sorted(built(COCO_H)[1].milestones) == [122916, 133159]
    assert sorted(built(COCO_B, max_iters=1000)[1].milestones) == [888, 962]
    assert milestones_at([0.5], begin=10, end=20) == [15]


def test_fractional_steps_refuse_bad_fractions_and_an_open_end():
    optimizer = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0))
    for bad in ([], [0.5, 0.4], [0.0], [1.0]):
        with pytest.raises(ValueError, match='milestone_fractions must be increasing fractions'):
            FractionalMultiStepLR(optimizer, milestone_fractions=bad, end=100)
    with pytest.raises(ValueError, match='needs a finite end'):
        FractionalMultiStepLR(optimizer, milestone_fractions=[0.5])


def test_fractional_steps_convert_from_epochs_keeping_the_fractions():
    optimizer = OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0))
    sched = FractionalMultiStepLR.build_iter_from_epoch(optimizer, milestone_fractions=[0.5, 0.75], begin=2,
                                                        end=10, epoch_length=10)
    assert (sched.begin, sched.end, sorted(sched.milestones), sched.by_epoch) == (20, 100, [60, 80], False)


# --- every config: the last phase follows the length ----------------------------------------------------------------

@pytest.mark.parametrize('config', TRAINING_CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_every_config_keeps_its_schedule_shape_at_half_and_double_length(config):
    cfg = Config.fromfile(config)
    key = 'max_epochs' if 'max_epochs' in cfg.train_cfg else 'max_iters'
    length = cfg.train_cfg[key]
    assert schedule_problems(cfg, cfg) == [], config
    for new in (length // 2, length * 2):
        changed = copy.deepcopy(cfg)
        changed.merge_from_dict({f'train_cfg.{key}': new})
        assert schedule_problems(changed, cfg) == [], (config, new)
        last = built(cfg, **{key: new})[-1]
        # the last phase ends with the run (epoch-based schedulers are built at 1 iteration per epoch)
        assert last.end == new, (config, new, last.end)
        if hasattr(last, 'T_max'):
            assert last.T_max == new - last.begin


# --- refusals before the run -----------------------------------------------------------------------------------------

def problems_of(config, **options):
    """schedule_problems of ``config`` with ``--cfg-options``-like ``options``."""
    as_written = Config.fromfile(config)
    cfg = copy.deepcopy(as_written)
    cfg.merge_from_dict(options)
    return schedule_problems(cfg, as_written)


def test_a_warmup_longer_than_the_run_is_refused_naming_the_keys():
    problems = problems_of(DEMO_PRETRAIN, **{'train_cfg.max_epochs': 3})
    text = '\n'.join(problems)
    assert 'param_scheduler[0] (LinearLR) ends at epoch 4, after the run ends (train_cfg.max_epochs=3)' in text
    assert 'param_scheduler[1] (CosineAnnealingLR) begins at epoch 4' in text


def test_an_explicit_end_that_misses_the_length_is_refused():
    past = problems_of(DEMO_PRETRAIN, **{'param_scheduler.1.end': 50})
    assert any('ends at epoch 50, after the run ends (train_cfg.max_epochs=40)' in p for p in past)
    short = problems_of(DEMO_PRETRAIN, **{'param_scheduler.1.end': 30})
    assert any('the lr schedule ends at epoch 30 but the run goes on to 40' in p for p in short)


def test_absolute_milestones_kept_while_the_length_changes_are_refused():
    as_written = Config.fromfile(COCO_B)
    as_written.param_scheduler[1] = dict(type='MultiStepLR', by_epoch=False, begin=0, milestones=[163889, 177546])
    cfg = copy.deepcopy(as_written)
    cfg.train_cfg.max_iters = 150000
    problems = schedule_problems(cfg, as_written)
    assert any('milestones [163889, 177546] at or after its end (iteration 150000)' in p for p in problems)
    cfg.train_cfg.max_iters = 180000
    problems = schedule_problems(cfg, as_written)
    assert any('train_cfg.max_iters changed from 184375 to 180000 but param_scheduler[1].milestones' in p
               and 'FractionalMultiStepLR' in p for p in problems)


def test_no_checkpoint_at_all_is_refused():
    problems = problems_of(DEMO_PRETRAIN, **{'default_hooks.checkpoint.interval': 50,
                                             'default_hooks.checkpoint.save_last': False})
    assert any('no checkpoint would be written' in p for p in problems)


@pytest.mark.slow
def test_train_tool_refuses_a_too_short_run_before_building_anything(tmp_path):
    proc = run('tools/train.py', DEMO_PRETRAIN, '--work-dir', str(tmp_path), '--cfg-options',
               'train_cfg.max_epochs=2', check=False)
    assert proc.returncode != 0
    assert 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py: the schedule does not fit the run' in proc.stderr
    assert 'train_cfg.max_epochs=2' in proc.stderr
    assert not osp.exists(osp.join(str(tmp_path), 'last_checkpoint'))


# --- end to end: the logged lr against the closed form -------------------------------------------------------------

@pytest.fixture(scope='module')
def short_pretrain(demo_data, tmp_path_factory):
    """The demo pretraining (40 epochs, 4 of warmup) with train_cfg.max_epochs=6 alone."""
    work_dir = str(tmp_path_factory.mktemp('short_pretrain'))
    run_tool('tools/train.py', DEMO_PRETRAIN, '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_epochs=6',
             EVERY_ITERATION)
    return work_dir


@pytest.mark.slow
def test_shorter_pretraining_has_the_whole_cosine_over_its_length(short_pretrain):
    lr = logged_lr(short_pretrain)
    total = max(lr) + 1
    assert total % 6 == 0
    epoch = total // 6
    warmup = 4 * epoch
    peak = check_warmup(lr, warmup, start_factor=1e-3)
    assert peak == pytest.approx(8e-3 * 32 / 256, rel=1e-6)  # auto_scale_lr: batch 32 of the 256 the lr is for

    def cosine(step):
        return peak * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2
    check_points(lr, cosine, [warmup, (warmup + total) // 2, total - 1])
    assert lr[total - 1] < 0.01 * peak, 'the cosine reaches (nearly) 0 at the last iteration'
    # the shortened run still validates and saves at its end
    assert any(k.startswith('recon/') for r in read_scalars(short_pretrain) for k in r), 'validated at its end'
    assert open(osp.join(short_pretrain, 'last_checkpoint')).read().strip().endswith('epoch_6.pth')


@pytest.mark.slow
def test_resuming_with_another_length_is_refused_naming_the_cause(short_pretrain, tmp_path):
    proc = run('tools/train.py', DEMO_PRETRAIN, '--work-dir', str(tmp_path), '--resume',
               osp.join(short_pretrain, 'epoch_5.pth'), '--cfg-options', 'train_cfg.max_epochs=8', check=False)
    assert proc.returncode != 0
    assert "the checkpoint's schedule does not fit this run" in proc.stderr
    assert 'param_scheduler[1] (CosineAnnealingLR) end' in proc.stderr
    assert "train_cfg {'max_epochs': 8}" in proc.stderr
    assert not any(n.startswith('epoch_') for n in os.listdir(tmp_path))
