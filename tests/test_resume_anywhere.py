"""A resume starts at its sample: nothing trained is loaded again, the augmentation is drawn per
sample (the same with any number of workers or processes), and another number of processes
continues the same stream when the total batch is kept (issue 32).

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
def test_another_number_of_processes_continues_the_same_stream(one, two, tmp_path):
    """1 -> 2 and 2 -> 1 processes with 16 images per step: the steps after the resume train the
    same augmented samples with the same masks, so the losses equal the run's that never stopped
    up to the float32 summation order (one process's mean over 16 images, or the mean of two
    processes' means over 8, and DDP's gradient average): measured up to 1.9e-7 relative (2 -> 1
    and 1 -> 2: 8.2e-8); augmentation seeded by each process's own seed instead of the shared one
    moved the losses by 3e-3."""
    want_one, want_two = losses(one), losses(two)
    assert want_two == pytest.approx(want_one, rel=1e-6)  # the layout does not change the stream
    _, work_dir, loaded = train(tmp_path, 'two_to_one', resume=osp.join(two, 'iter_4.pth'))
    assert len(loaded) == 4 * 16
    got = losses(work_dir)
    assert sorted(got) == [5, 6, 7, 8]
    assert got == pytest.approx({s: want_two[s] for s in got}, rel=1e-6)
    _, work_dir, loaded = train(tmp_path, 'one_to_two', batch=8, processes=2, resume=osp.join(one, 'iter_4.pth'))
    assert len(loaded) == 4 * 16
    got = losses(work_dir)
    assert got == pytest.approx({s: want_one[s] for s in got}, rel=1e-6)


@pytest.mark.slow
def test_a_resume_that_cannot_continue_the_stream_is_refused_before_anything_is_built(one, two, tmp_path):
    proc, work_dir, _ = train(tmp_path, 'half_batch', batch=8, resume=osp.join(two, 'iter_4.pth'), check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    message = proc.stderr.strip().splitlines()
    assert len(message) == 1 and 'Traceback' not in proc.stderr, proc.stderr
    assert ('trained with 2 processes x 8 per process x accumulation 1 = 16 samples per optimizer step; this run '
            'has 1 x 8 x 1 = 8 samples per step') in message[0]
    assert 'train_dataloader.batch_size=16' in message[0]
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
