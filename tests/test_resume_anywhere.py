"""A resume starts at its sample: nothing trained is loaded again, the augmentation is drawn per
sample (the same with any number of workers or processes), and another number of processes
continues the same stream, the accumulation chosen to keep the total batch and the schedules
moved to it (issue 32).

Runs: the demo pretraining on 128 images, one epoch of 8 steps of 16 images, a checkpoint after
every step, 2 DataLoader workers; the demo's random crop and flip, plain SGD and the test model
whose masking noise is drawn from each sample's index (``SampleSeededMaskedAutoencoder``,
tests/helpers/mae_mm_faults.py), so that a step's loss depends only on which samples it trains
and how they are augmented. ``RecordLoadedSample`` writes down every sample the pipeline loads.
"""
import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mae_mm.datasets import PerSampleSeededPipeline, ResumableSampler, sample_seed
from conftest import read_scalars, scalars_by_step
from reliability_utils import DEMO_PRETRAIN, derived_config, free_port, run, short_schedule

STEPS = 8
# the demo's hooks less the kNN probe and the reconstruction panels (nothing to watch here)
HOOKS = [dict(h) for h in Config.fromfile(DEMO_PRETRAIN).custom_hooks
         if h['type'] not in ('mae_mm.KNNProbeHook', 'mae_mm.ReconstructionVisHook')]
BODY = """
optim_wrapper = dict(optimizer=dict(_delete_=True, type='SGD', lr=0.5, momentum=0.0, weight_decay=0.0))
model = dict(type='SampleSeededMaskedAutoencoder',
             data_preprocessor=dict(_delete_=True, type='mmpretrain.ClsDataPreprocessor',
                                    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True))
train_cfg = dict(max_epochs=1, val_interval=100)
train_dataloader = dict(batch_size={batch}, num_workers={workers}, persistent_workers=False,
                        dataset=dict(indices=128, pipeline=[dict(type='RecordLoadedSample', out_dir={out!r})]
                                     + _base_.train_pipeline))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(by_epoch=False, interval=1, max_keep_ckpts=-1))
log_processor = dict(window_size=1)
""" + short_schedule(1)


def losses(work_dir: str) -> dict:
    """``{step: loss}`` of the run in ``work_dir`` (each run here has one)."""
    return scalars_by_step(read_scalars(work_dir), 'loss')


def loaded_samples(out_dir: str) -> list:
    """The sample indices ``RecordLoadedSample`` wrote under ``out_dir`` (one file per process)."""
    found = []
    for path in sorted(glob.glob(osp.join(out_dir, 'loaded_*.txt'))):
        with open(path) as f:
            found += [int(line) for line in f if line.strip()]
    return found


def train(tmp_path, name, *, batch=16, workers=2, processes=1, resume=None, hooks=HOOKS, options=(), check=True):
    """Trains (or resumes from ``resume``) a run of BODY in ``tmp_path/name``; returns
    (CompletedProcess, work dir, the samples its pipeline loaded)."""
    out = tmp_path / f'{name}_loaded'
    out.mkdir()
    config = derived_config(tmp_path, name, BODY.format(batch=batch, workers=workers, out=str(out))
                            + f'custom_hooks = {hooks!r}\n')
    work_dir = str(tmp_path / name)
    args = ['--work-dir', work_dir] + (['--resume', resume] if resume else [])
    args += ['--cfg-options', *options] if options else []
    if processes == 1:
        proc = run('tools/train.py', config, *args, threads=1, check=check)
    else:
        proc = run('tools/dist_train.sh', config, str(processes), *args, threads=1, check=check,
                   env={'PORT': str(free_port())})
    return proc, work_dir, loaded_samples(str(out))


@pytest.fixture(scope='module')
def one(demo_data, tmp_path_factory):
    """The uninterrupted run on one process (batch 16)."""
    _, work_dir, loaded = train(tmp_path_factory.mktemp('one'), 'run')
    assert sorted(loaded) == list(range(128))  # the epoch loads every sample once
    return work_dir


@pytest.fixture(scope='module')
def two(demo_data, tmp_path_factory):
    """The uninterrupted run on two processes (8 each: the same 16 per step)."""
    return train(tmp_path_factory.mktemp('two'), 'run', batch=8, processes=2)[1]


@pytest.fixture(scope='module')
def accumulated(demo_data, tmp_path_factory):
    """The uninterrupted run on one process of 8 with accumulation 2 (the same 16 per step), a
    checkpoint after each step (every other iteration)."""
    return train(tmp_path_factory.mktemp('accumulated'), 'run', batch=8,
                 options=['optim_wrapper.accumulative_counts=2', 'default_hooks.checkpoint.interval=2'])[1]


def per_step(micro: dict, counts: int = 2) -> dict:
    """``{optimizer step: mean}`` of per-iteration values logged with accumulation ``counts``
    (iterations ``counts x (s - 1) + 1`` to ``counts x s`` make step s): the mean of equal halves'
    mean losses is the step's mean loss."""
    return {(it - 1) // counts + 1: sum(micro[i] for i in range(it - counts + 1, it + 1)) / counts
            for it in micro if it % counts == 0}


def test_the_sampler_starts_at_a_global_sample_and_is_mmengines_otherwise():
    from mmengine.dataset import DefaultSampler
    data = list(range(50))
    for world in (1, 2, 5):
        plain = list(DefaultSampler(data, shuffle=True, seed=3))
        samplers = []
        for rank in range(world):
            sampler = ResumableSampler(data, shuffle=True, seed=3)
            sampler.rank, sampler.world_size = rank, world
            sampler.num_samples = -(-50 // world)
            sampler.total_size = sampler.num_samples * world
            samplers.append(sampler)
        # rank r gets positions r, r + W, ... of one global order, the same order for every W
        merged = [i for step in zip(*[list(s) for s in samplers]) for i in step]
        assert merged[:50] == plain
        for sampler in samplers:
            sampler.skip(10 * world)
        resumed = [list(s) for s in samplers]
        assert [i for step in zip(*resumed) for i in step] == merged[10 * world:]
        assert [i for step in zip(*[list(s) for s in samplers]) for i in step] == merged  # one pass only
        assert len(samplers[0]) == samplers[0].num_samples  # the epoch's length, not what is left
    sampler = ResumableSampler(data, shuffle=True, seed=3)
    sampler.world_size = 2
    with pytest.raises(ValueError, match='multiple of the 2 processes'):
        sampler.skip(3)


def test_augmentation_draws_depend_on_seed_epoch_and_sample_only():
    import random

    import numpy as np

    def draws(info):
        return info['sample_idx'], random.random(), float(np.random.rand()), float(torch.rand(()))

    pipeline = PerSampleSeededPipeline(draws, seed=7)
    first = [pipeline({'sample_idx': i}) for i in (3, 1, 2)]
    np.random.seed(0)
    torch.manual_seed(0)
    before = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    again = {pipeline({'sample_idx': i})[0]: pipeline({'sample_idx': i}) for i in (2, 3, 1)}
    assert all(again[sample[0]] == sample for sample in first)  # any order, any process
    assert (np.random.get_state()[1] == before[0]).all() and torch.equal(torch.get_rng_state(), before[1])
    pipeline.epoch = 1
    assert pipeline({'sample_idx': 3}) != first[0]
    assert len({sample_seed(7, e, i) for e in range(3) for i in range(100)}) == 300
    with pytest.raises(KeyError, match='sample_idx'):
        pipeline({'img_path': 'x.jpg'})


@pytest.mark.slow
def test_a_resume_loads_only_what_is_left_of_the_epoch_and_trains_as_the_run_that_never_stopped(one, tmp_path):
    want = losses(one)
    assert sorted(want) == list(range(1, STEPS + 1))
    for step, workers in ((1, 2), (7, 2), (4, 0)):  # 4: saved with 2 workers, resumed with none
        proc, work_dir, loaded = train(tmp_path, f'from{step}_w{workers}', workers=workers,
                                       resume=osp.join(one, f'iter_{step}.pth'))
        assert len(loaded) == (STEPS - step) * 16, step  # at 7 of 8 steps: one batch, not the epoch
        assert f'inside epoch 1 at sample {step * 16} of 128' in proc.stdout + proc.stderr
        assert 'nothing already trained is loaded' in proc.stdout + proc.stderr
        got = losses(work_dir)
        assert sorted(got) == list(range(step + 1, STEPS + 1))
        assert got == {s: want[s] for s in got}, step  # bit for bit
    # augmentation from the workers' running streams: exact only by drawing the trained batches again
    hooks = [dict(h, per_sample_augmentation=False) if h['type'] == 'mae_mm.DataPositionHook' else h for h in HOOKS]
    proc, work_dir, loaded = train(tmp_path, 'draw_and_drop', resume=osp.join(one, 'iter_7.pth'), hooks=hooks)
    assert 'drawing and dropping' in proc.stdout + proc.stderr
    assert len(loaded) == STEPS * 16


@pytest.mark.slow
def test_another_number_of_processes_continues_the_same_stream(one, two, accumulated, tmp_path):
    """16 images per step as 1 x 16, 2 x 8 and 1 x 8 x accumulation 2: the same augmented samples
    with the same masks and the same lr at each step, so the same losses up to the float32
    summation order (one process's mean over 16 images, the mean of two means over 8, DDP's
    gradient average): measured up to 1.9e-7 relative. 2 -> 1 process (accumulation 2 chosen) and
    1 (accumulation 2) -> 2 resumed at step 4 continue as the run on the original layout:
    measured up to 8.8e-8. Augmentation seeded by each process's own seed moved the losses by 3e-3;
    mmengine's scheduler hook (the lr one iteration later in each window) moved the accumulated
    run's by 3e-2."""
    want_one, want_two = losses(one), losses(two)
    assert want_two == pytest.approx(want_one, rel=1e-6)  # the layout does not change the stream
    micro = losses(accumulated)
    assert sorted(micro) == list(range(1, 2 * STEPS + 1))
    want_accumulated = per_step(micro)
    assert want_accumulated == pytest.approx(want_one, rel=1e-6)
    lr_one, lr_accumulated = scalars_by_step(read_scalars(one), 'lr'), scalars_by_step(read_scalars(accumulated), 'lr')
    assert lr_accumulated == pytest.approx({it: lr_one[(it + 1) // 2] for it in lr_accumulated}, rel=1e-12)

    proc, work_dir, loaded = train(tmp_path, 'two_to_one', batch=8, resume=osp.join(two, 'iter_4.pth'))
    assert len(loaded) == 4 * 16
    assert ('inside epoch 1 at sample 64 of 128 (batch 8 of 16; 2 processes x 8 x accumulation 1 -> 1 process x 8 '
            'x accumulation 2: 16 samples per step kept)') in proc.stdout + proc.stderr
    got = losses(work_dir)
    assert sorted(got) == list(range(9, 2 * STEPS + 1))  # iteration 4 of 2 x 8 is iteration 8 of 1 x 8 x 2
    assert per_step(got) == pytest.approx({s: want_two[s] for s in range(5, STEPS + 1)}, rel=1e-6)
    meta = torch.load(osp.join(work_dir, f'iter_{2 * STEPS}.pth'), map_location='cpu', weights_only=True)['meta']
    assert (meta['data_position']['processes'], meta['data_position']['accumulative_counts']) == (1, 2)

    proc, work_dir, loaded = train(tmp_path, 'accumulated_to_two', batch=8, processes=2,
                                   resume=osp.join(accumulated, 'iter_8.pth'))
    assert len(loaded) == 4 * 16
    assert '1 process x 8 x accumulation 2 -> 2 processes x 8 x accumulation 1' in proc.stdout + proc.stderr
    got = losses(work_dir)
    assert sorted(got) == [5, 6, 7, 8]
    assert got == pytest.approx({s: want_accumulated[s] for s in got}, rel=1e-6)


@pytest.mark.slow
def test_a_resume_that_cannot_continue_the_stream_is_refused_before_anything_is_built(one, two, tmp_path):
    proc, work_dir, _ = train(tmp_path, 'batch_of_six', batch=6, resume=osp.join(two, 'iter_4.pth'), check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    message = proc.stderr.strip().splitlines()
    assert len(message) == 1 and 'Traceback' not in proc.stderr, proc.stderr
    assert ('trained with 2 processes x 8 per process x accumulation 1 = 16 samples per optimizer step; 1 process '
            'x 6 per process cannot make 16 with a whole accumulation') in message[0]
    assert 'train_dataloader.batch_size=N, N one of 1, 2, 4, 8, 16 (accumulation 16/N)' in message[0]
    assert not glob.glob(osp.join(work_dir, '*', '*.log'))  # no Runner was built

    proc, work_dir, _ = train(tmp_path, 'fewer_images', resume=osp.join(one, 'iter_4.pth'), check=False,
                              options=['train_dataloader.dataset.indices=96'])
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert 'trained on a data set of 128 samples; train_dataloader.dataset has 96' in proc.stderr
    assert not glob.glob(osp.join(work_dir, '*', '*.log'))


def test_each_checkpoint_records_its_data_position(one):
    meta = torch.load(osp.join(one, 'iter_3.pth'), map_location='cpu', weights_only=True)['meta']
    assert meta['data_position'] == dict(epoch=0, samples=48, dataset_size=128, processes=1, batch_size=16,
                                         accumulative_counts=1, steps_per_epoch=8, per_sample_augmentation=True)
    last = torch.load(osp.join(one, f'iter_{STEPS}.pth'), map_location='cpu', weights_only=True)['meta']
    assert (last['data_position']['epoch'], last['data_position']['samples']) == (1, 0)  # the next epoch's start


def _warmup_cosine(steps_per_epoch: int, counts: int):
    """An SGD wrapper and the tests' schedule (1 epoch of linear warmup, a cosine over 2 more),
    built for ``steps_per_epoch`` optimizer steps of ``counts`` iterations as mmengine's Runner
    builds it and OptimizerStepParamSchedulerHook adjusts it."""
    from mmengine.optim import OptimWrapper
    from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR

    from mae_mm.engine.optimizer_step_scheduler_hook import end_linear_schedules_at_window_starts

    wrapper = OptimWrapper(torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0))
    length = steps_per_epoch * counts
    schedulers = [LinearLR.build_iter_from_epoch(wrapper, start_factor=1e-3, begin=0, end=1, by_epoch=True,
                                                 epoch_length=length),
                  CosineAnnealingLR.build_iter_from_epoch(wrapper, eta_min=0.0, begin=1, end=3, by_epoch=True,
                                                          epoch_length=length)]
    end_linear_schedules_at_window_starts(schedulers, counts)
    return wrapper, schedulers


def _lrs(wrapper, schedulers, steps: int, every: int = 1) -> list:
    """The lr after each of ``steps`` optimizer steps, the schedulers moved ``every`` iterations per step."""
    found = []
    for _ in range(steps):
        for _ in range(every):
            for scheduler in schedulers:
                scheduler.step()
        found.append(wrapper.param_groups[0]['lr'])
    return found


def test_the_lr_of_each_optimizer_step_does_not_depend_on_the_accumulation():
    """8 optimizer steps of warmup then a cosine: the lr of each step with accumulation 1, 2, 4;
    with mmengine's hook (the schedulers moved every iteration) accumulation 2 is a window late."""
    wrapper, schedulers = _warmup_cosine(8, 1)
    want = [wrapper.param_groups[0]['lr']] + _lrs(wrapper, schedulers, 23)
    assert want[7] == pytest.approx(1.0) and want[0] == pytest.approx(1e-3)  # the warmup's ends
    for counts in (2, 4):
        wrapper, schedulers = _warmup_cosine(8, counts)
        got = [wrapper.param_groups[0]['lr']] + _lrs(wrapper, schedulers, 23, every=counts)
        assert got == pytest.approx(want, rel=1e-6), counts


@pytest.mark.parametrize('before, now, trained', [(1, 2, 3), (1, 2, 12), (2, 1, 12), (2, 4, 10)])
def test_a_schedule_saved_with_one_accumulation_continues_in_another(before, now, trained):
    """8 optimizer steps per epoch; ``trained`` steps done with accumulation ``before``, the rest with ``now``:
    the lr of every later step is the one the run would have had (in the warmup, 3, and the cosine, 10, 12)."""
    from mae_mm.engine.accumulation_change import rescale_counters

    wrapper, schedulers = _warmup_cosine(8, before)
    _lrs(wrapper, schedulers, trained, every=before)
    checkpoint = dict(meta=dict(iter=trained * before), optimizer=wrapper.state_dict(),
                      param_schedulers=[s.state_dict() for s in schedulers])
    want = _lrs(wrapper, schedulers, 23 - trained, every=before)  # the lrs of steps trained + 1 to 23

    wrapper, schedulers = _warmup_cosine(8, now)  # what the resumed Runner builds
    rescale_counters(checkpoint, schedulers, before, now)
    assert checkpoint['meta']['iter'] == trained * now
    wrapper.load_state_dict(checkpoint['optimizer'])
    for scheduler, state in zip(schedulers, checkpoint['param_schedulers']):
        scheduler.load_state_dict(state)
    assert [(s.begin, s.end) for s in schedulers] == [(0, 8 * now - now + 1), (8 * now, 24 * now)]
    assert (schedulers[0].total_iters, schedulers[1].T_max) == (7 * now, 16 * now)
    assert _lrs(wrapper, schedulers, 23 - trained, every=now) == pytest.approx(want, rel=1e-6)

    inside = dict(meta=dict(iter=2 * trained + 1), param_schedulers=None)
    with pytest.raises(ValueError, match=r"iteration \d+ is not a whole number of windows of 2 micro-batches"):
        rescale_counters(inside, None, 2, 1)


def _resuming(tmp_path, iteration: int, position: dict, **dataloader) -> Config:
    """The demo pretraining on 128 images resuming a checkpoint (no tensors) saved at ``iteration``
    with data position ``position``, on one process with ``dataloader``'s settings."""
    path = str(tmp_path / f'iter_{iteration}.pth')
    torch.save(dict(meta=dict(iter=iteration, data_position=position)), path)
    cfg = Config.fromfile(DEMO_PRETRAIN)
    cfg.merge_from_dict(dict(resume=True, load_from=path, launcher='none', train_dataloader=dataloader))
    cfg.train_dataloader.dataset.indices = 128
    return cfg


def test_the_resume_chooses_the_accumulation_that_keeps_the_total_batch_or_says_why_none_does(demo_data, tmp_path):
    from mae_mm.launch.resume_checks import ResumeLayoutError, check_resume_data_position

    two_by_eight = dict(epoch=0, samples=64, dataset_size=128, processes=2, batch_size=8, accumulative_counts=1,
                        steps_per_epoch=8, per_sample_augmentation=True)
    cfg = _resuming(tmp_path, 4, two_by_eight, batch_size=8)
    check_resume_data_position(cfg)
    assert cfg.optim_wrapper.accumulative_counts == 2  # 1 process x 8 x 2 = 2 x 8 x 1
    cfg = _resuming(tmp_path, 4, two_by_eight, batch_size=4)
    check_resume_data_position(cfg)
    assert cfg.optim_wrapper.accumulative_counts == 4

    accumulated = dict(two_by_eight, processes=1, accumulative_counts=2, steps_per_epoch=16)
    with pytest.raises(ResumeLayoutError, match=r'1 process x 16 needs accumulation 1, but it was saved at iteration '
                                                r'7, inside a window of 2.* train_dataloader.batch_size=8 '
                                                r'\(accumulation 2\)'):
        check_resume_data_position(_resuming(tmp_path, 7, accumulated, batch_size=16))
    odd = dict(accumulated, dataset_size=120, steps_per_epoch=15)
    with pytest.raises(ResumeLayoutError, match='its 15 iterations per epoch are not whole windows of 2'):
        check_resume_data_position(_resuming(tmp_path, 6, odd, batch_size=16))
    with pytest.raises(ResumeLayoutError, match=r'trained on a data set of 120 samples; train_dataloader.dataset has 128'):
        check_resume_data_position(_resuming(tmp_path, 6, odd, batch_size=8))  # the accumulation kept: size next
