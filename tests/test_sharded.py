"""Sharded data parallel (FSDP2, ``model_wrapper_cfg = dict(type='mae_mm.ShardedDataParallel')``).

Every run here is the deterministic two-process demo pretraining of tests/test_distributed.py
(64 images, 8 per process, 2 epochs of 4 iterations, centre crops, masks seeded by sample), with
SGD momentum 0.9 (so the optimizer has a state to save and resume), gradient clipping that acts
at every step (max norm 2 against norms of about 3.5) and 2 accumulated micro-batches per
step. The sharded runs add activation checkpointing to encoder and decoder, and run as two
"nodes" on localhost (one torchrun agent each, ``NNODES=2``), the launch of tests/test_lost_node.py.

DDP all-reduces whole gradients; the sharded model reduce-scatters each block's. Over 2 ranks
both sum the same two numbers per element, so the runs agree to float32 rounding (the global
gradient norm is summed in another order: 2e-7 relative). Under momentum SGD the weights are
linear in the gradients; a wrong data order, a gradient not averaged over the ranks, or a norm
taken over one rank's shard only (the clipping then scales by another factor) moves them by
about ``lr * |g|`` per step, far above the tolerance.
"""
import glob
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from conftest import read_scalars, scalars_by_step
from reliability_utils import HELPERS, ROOT, derived_config, free_port, run
from test_distributed import DETERMINISTIC
from test_preemption import meta, wait_for_file

from mae_mm.engine.preemption import PREEMPTED_EXIT_CODE

BODY = DETERMINISTIC.format(batch=8).replace('momentum=0.0', 'momentum=0.9').replace(
    'weight_decay=0.0))', 'weight_decay=0.0), clip_grad=dict(max_norm=2.0), accumulative_counts=2)')
SHARDED = """
model_wrapper_cfg = dict(type='mae_mm.ShardedDataParallel')
model.update(encoder=dict(with_checkpoint=True), decoder=dict(with_checkpoint=True))
"""
# tight: float32 rounding of a different summation order, 1e-6 of a weight moved by 1e-3 and more
TOLERANCE = dict(rtol=1e-5, atol=1e-6)


def load(path: str) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)


def two_nodes(config: str, work_dir: str, *extra) -> None:
    """``tools/dist_train.sh CONFIG 1`` twice, as node 0 and node 1 of one job on localhost."""
    port = free_port()
    procs = []
    for node in (0, 1):
        env = dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{HELPERS}', PYTHON=sys.executable, PYTHONUNBUFFERED='1',
                   OMP_NUM_THREADS='1', NNODES='2', NODE_RANK=str(node), MASTER_ADDR='127.0.0.1', PORT=str(port))
        procs.append(subprocess.Popen(['bash', 'tools/dist_train.sh', config, '1', '--work-dir', work_dir, *extra],
                                      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for node, (proc, out) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 0, f'node {node} failed ({proc.returncode}):\n{out[-4000:]}'


def two_processes(config: str, work_dir: str, *extra) -> str:
    proc = run('tools/dist_train.sh', config, '2', '--work-dir', work_dir, *extra, threads=1,
               env={'PORT': str(free_port())})
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def configs(demo_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp('sharded_configs')
    return dict(ddp=derived_config(folder, 'ddp', BODY), sharded=derived_config(folder, 'sharded', BODY + SHARDED))


@pytest.fixture(scope='module')
def ddp_run(configs, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('ddp'))
    two_processes(configs['ddp'], work_dir)
    return work_dir


@pytest.fixture(scope='module')
def sharded_run(configs, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('sharded'))
    two_nodes(configs['sharded'], work_dir)
    return work_dir


def logged(work_dir: str, key: str) -> dict:
    """``{step: value}`` of ``key`` over every run (timestamped folder) of ``work_dir``."""
    values = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            values.update(scalars_by_step([json.loads(line) for line in f if line.strip()], key))
    return values


def assert_same_training(got_dir: str, want_dir: str, exact: bool = False, steps=range(1, 9)) -> None:
    """The last checkpoint's weights and momentum buffers, and the logged loss and gradient norm
    of ``steps``, of two runs agree (bit for bit where ``exact``)."""
    got, want = load(osp.join(got_dir, 'epoch_2.pth')), load(osp.join(want_dir, 'epoch_2.pth'))
    assert got['meta']['iter'] == want['meta']['iter'] == 8
    assert list(got['state_dict']) == list(want['state_dict'])
    pairs = [(f'state_dict/{k}', v, want['state_dict'][k]) for k, v in got['state_dict'].items()]
    assert got['optimizer']['state'].keys() == want['optimizer']['state'].keys()
    pairs += [(f'momentum/{i}', s['momentum_buffer'], want['optimizer']['state'][i]['momentum_buffer'])
              for i, s in got['optimizer']['state'].items()]
    for name, value, ref in pairs:
        assert type(value) is torch.Tensor, f'{name} is saved as {type(value).__name__}'
        if exact:
            assert torch.equal(value, ref), name
        else:
            torch.testing.assert_close(value, ref, **TOLERANCE, msg=name)
    for key in ('loss', 'grad_norm'):
        got_values, want_values = logged(got_dir, key), logged(want_dir, key)
        compared = [step for step in steps if step in want_values]  # no norm before the first update
        assert len(compared) >= len(steps) - 1 and [s for s in steps if s in got_values] == compared, key
        for step in compared:
            assert got_values[step] == pytest.approx(want_values[step], rel=1e-6), f'{key} at step {step}'


@pytest.mark.slow
def test_a_sharded_run_on_two_nodes_equals_a_ddp_run(ddp_run, sharded_run):
    assert_same_training(sharded_run, ddp_run)
    with open(next(osp.join(dp, f) for dp, _, fs in os.walk(sharded_run) for f in fs if f.endswith('.log'))) as f:
        log = f.read()
    assert 'ShardedStateHook' in log and 'Distributed training: True\n    GPU number: 2' in log
    # the clipping acted (the tolerance would not see a wrong norm otherwise), the loss fell and
    # the weights moved far more than the tolerance
    norms = scalars_by_step(read_scalars(sharded_run), 'grad_norm')
    assert min(norms.values()) > 1.0
    losses = scalars_by_step(read_scalars(sharded_run), 'loss')
    assert losses[8] < losses[1]
    first, last = load(osp.join(sharded_run, 'epoch_1.pth')), load(osp.join(sharded_run, 'epoch_2.pth'))
    assert max((last['state_dict'][k] - v).abs().max().item() for k, v in first['state_dict'].items()) > 1e-3


@pytest.mark.slow
def test_a_sharded_run_stopped_by_a_signal_resumes_to_the_uninterrupted_weights(configs, sharded_run, tmp_path):
    """SIGTERM to the launcher in the middle of iteration 5 (of 8), the first micro-batch of an
    accumulation window: the run finishes the window, gathers the sharded state and saves it as
    ``iter_6.pth`` (a save at 5 would lose that micro-batch's gradient); resumed, it ends bit for
    bit as the uninterrupted run."""
    markers, work_dir = str(tmp_path / 'markers'), str(tmp_path / 'run')
    os.makedirs(markers)
    paused = derived_config(tmp_path, 'paused', BODY + SHARDED,
                            extra_hooks=[dict(type='PauseAtIterHook', at_iters=[5], marker_dir=markers)])
    env = dict(os.environ, PYTHONPATH=f'{ROOT}{os.pathsep}{HELPERS}', PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PORT=str(free_port()))
    proc = subprocess.Popen(['bash', 'tools/dist_train.sh', paused, '2', '--work-dir', work_dir], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_file(osp.join(markers, 'paused_5_rank0'), proc)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=300)[0]
    assert proc.returncode == PREEMPTED_EXIT_CODE, output[-3000:]
    assert 'inside a gradient accumulation window (iteration 5): saving after its optimizer step' in output
    assert not osp.exists(osp.join(work_dir, 'iter_5.pth'))
    saved = load(osp.join(work_dir, 'iter_6.pth'))
    assert saved['meta']['iter'] == 6 and len(saved['random_states']) == 2
    assert not any(isinstance(v, torch.distributed.tensor.DTensor) for v in saved['state_dict'].values())
    two_processes(configs['sharded'], work_dir, '--resume')
    assert_same_training(work_dir, sharded_run, exact=True)


@pytest.mark.slow
@pytest.mark.parametrize('first,then', [('ddp', 'sharded'), ('sharded', 'ddp')])
def test_a_run_moves_between_ddp_and_sharded_by_resuming(configs, ddp_run, sharded_run, tmp_path, first, then):
    """Epoch 1 of one kind, resumed as the other: epoch 2 is the uninterrupted DDP run's."""
    work_dir = str(tmp_path / 'run')
    os.makedirs(work_dir)
    shutil.copy(osp.join(ddp_run if first == 'ddp' else sharded_run, 'epoch_1.pth'), work_dir)
    two_processes(configs[then], work_dir, '--resume', osp.join(work_dir, 'epoch_1.pth'))
    assert_same_training(work_dir, ddp_run, steps=range(5, 9))


@pytest.mark.slow
def test_a_sharded_checkpoint_resumes_on_one_process_with_the_total_batch_kept(configs, ddp_run, sharded_run, tmp_path):
    """Epoch 1 of the sharded run (2 processes x 8 x accumulation 2) resumed on one process of 8:
    accumulation 4 keeps 32 images per step, the iteration and the schedule move to it, and epoch
    2 ends at the uninterrupted DDP run's weights and momentum (masks seeded by sample: the same
    steps, summed in another order)."""
    work_dir = str(tmp_path / 'run')
    os.makedirs(work_dir)
    shutil.copy(osp.join(sharded_run, 'epoch_1.pth'), work_dir)
    proc = run('tools/train.py', configs['sharded'], '--work-dir', work_dir, '--resume',
               osp.join(work_dir, 'epoch_1.pth'), threads=1)
    assert ('at the start of epoch 2 (sample 0 of 64; 2 processes x 8 x accumulation 2 -> 1 process x 8 x '
            'accumulation 4: 32 samples per step kept)') in proc.stdout + proc.stderr
    got, want = load(osp.join(work_dir, 'epoch_2.pth')), load(osp.join(ddp_run, 'epoch_2.pth'))
    assert got['meta']['iter'] == 16 and got['meta']['data_position']['accumulative_counts'] == 4
    for name, value in got['state_dict'].items():
        torch.testing.assert_close(value, want['state_dict'][name], **TOLERANCE, msg=name)
    for i, state in got['optimizer']['state'].items():
        torch.testing.assert_close(state['momentum_buffer'], want['optimizer']['state'][i]['momentum_buffer'],
                                   **TOLERANCE, msg=f'momentum/{i}')


TRANSFER_DEMOS = ['vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', 'vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py',
                  'mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py', 'upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py']


@pytest.mark.slow
def test_a_sharded_checkpoint_loads_into_the_transfer_configs_and_the_converter(sharded_run, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope, init_default_scope

    from mae_mm.registry import MODELS

    ckpt = osp.join(sharded_run, 'epoch_2.pth')
    encoder = {k[len('encoder.'):]: v for k, v in load(ckpt)['state_dict'].items() if k.startswith('encoder.')}
    try:
        for name in TRANSFER_DEMOS:
            cfg = Config.fromfile(osp.join(ROOT, 'configs', 'demo', name))
            cfg.model.backbone.init_cfg.checkpoint = ckpt
            init_default_scope(cfg.get('default_scope', 'mmpretrain'))
            model = MODELS.build(cfg.model)
            model.init_weights()
            own = model.backbone.state_dict()
            loaded = [k for k, v in encoder.items() if k in own and own[k].shape == v.shape]
            assert sum(k.startswith('blocks.') for k in loaded) == 6 * 12, (name, loaded)  # every block tensor
            for key in loaded:
                torch.testing.assert_close(own[key], encoder[key], rtol=0, atol=0, msg=f'{name}: {key}')
    finally:
        DefaultScope._instance_dict.clear()
    # and the exporters read it as they read a DDP run's
    run('tools/convert_checkpoint.py', ckpt, str(tmp_path / 'timm.pth'), '--to', 'timm')
    timm = torch.load(tmp_path / 'timm.pth', map_location='cpu', weights_only=True)
    timm = timm.get('state_dict', timm)
    assert torch.equal(timm['blocks.5.mlp.fc2.weight'], encoder['blocks.5.mlp.fc2.weight'])


# ---- the wrapper's parts, in two spawned gloo processes ------------------------------------------

def _wrapper_parts(rank: int, port: int) -> None:
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor, Shard, distribute_tensor, init_device_mesh

    from mae_mm.engine import ShardedStateHook
    from mae_mm.models import MaskedAutoencoder
    from mae_mm.parallel import ShardedDataParallel
    from mae_mm.parallel.full_state import full_state_on_rank0, local_chunk

    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    torch.manual_seed(rank)  # different on each rank: the wrapper must make them equal
    mesh = init_device_mesh('cpu', (2, ))
    # torch.chunk's layout over 2 ranks, uneven and empty shards included, as FSDP2 lays them out
    for shape in [(5, 3), (1, 4), (7, ), (3, 2, 2)]:
        full = torch.arange(float(torch.Size(shape).numel())).reshape(shape)
        want = distribute_tensor(full, mesh, [Shard(0)])
        got = local_chunk(full, want)
        assert got.placements == want.placements and got.shape == want.shape, shape
        assert torch.equal(got.to_local(), want.to_local()), (shape, got.to_local(), want.to_local())
        assert torch.equal(got.full_tensor(), full), shape
    try:
        local_chunk(torch.zeros(4, 3), distribute_tensor(torch.zeros(5, 3), mesh, [Shard(0)]))
        raise AssertionError('a shape mismatch was accepted')
    except ValueError as err:
        assert '(4, 3)' in str(err) and '(5, 3)' in str(err)

    def mae():
        return MaskedAutoencoder(encoder=dict(type='MAEEncoder', arch='tiny', pretrain_img_size=32, patch_size=8),
                                 decoder=dict(type='MAEDecoder', embed_dim=32, depth=2, num_heads=2))
    for bad, message in [(dict(unit_classes=('TransformerBlock', )), "unit_classes=('TransformerBlock',)"),
                         (dict(mixed_precision='fp16'), "mixed_precision='fp16'")]:
        try:
            ShardedDataParallel(mae(), **bad)
            raise AssertionError(f'{bad} was accepted')
        except ValueError as err:
            assert message in str(err), str(err)

    model = ShardedDataParallel(mae())
    assert model.num_units == 6 + 2  # each encoder and decoder block
    local = model.module.state_dict()
    assert all(isinstance(v, DTensor) for k, v in local.items() if k.startswith('encoder.blocks.'))
    full = {k: v.full_tensor() if isinstance(v, DTensor) else v for k, v in local.items()}
    # rank 0's initialisation everywhere, before sharding
    gathered = [None, None]
    dist.all_gather_object(gathered, full['encoder.blocks.0.attn.qkv.weight'])
    assert torch.equal(gathered[0], gathered[1])
    # saving: rank 0 reads the full state from the usual call, the others their shards
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.module(torch.randn(2, 3, 32, 32), [], mode='loss')['loss'].backward()
    optimizer.step()
    with full_state_on_rank0(model.module, [optimizer]):
        state, opt_state = model.module.state_dict(), optimizer.state_dict()
    if rank == 0:
        assert all(type(v) is torch.Tensor for v in state.values())
        assert state['encoder.pos_embed'].shape == full['encoder.pos_embed'].shape
        assert all(type(v) is torch.Tensor for s in opt_state['state'].values() for v in s.values())
    else:
        assert isinstance(state['encoder.blocks.0.attn.qkv.weight'], DTensor)
    # the live optimizer state keeps its shards
    assert all(isinstance(s['exp_avg'], DTensor) for s in optimizer.state.values())
    # mmengine's own CheckpointHook would save rank 0's shards: refused
    runner = type('Runner', (), {'model': model})()
    try:
        ShardedStateHook().before_save_checkpoint(runner, dict(state_dict=model.module.state_dict()))
        raise AssertionError('a save of shards was accepted')
    except RuntimeError as err:
        assert 'without gathering' in str(err)
    dist.destroy_process_group()


@pytest.mark.slow
def test_the_wrappers_parts_on_two_gloo_processes():
    """The chunk layout against torch's own ``distribute_tensor`` (uneven and empty shards), the
    refusals of a wrong unit class or precision, the broadcast of rank 0's initialisation, the
    full state on rank 0 around a save, and mmengine's ungathered save refused."""
    mp.spawn(_wrapper_parts, args=(free_port(), ), nprocs=2, join=True)


def test_without_a_process_group_the_wrapper_says_how_to_launch():
    from mae_mm.parallel import ShardedDataParallel

    with pytest.raises(RuntimeError, match='needs a distributed launch.*tools/dist_train.sh'):
        ShardedDataParallel(torch.nn.Linear(2, 2))
