"""Memory per rank of DDP against ShardedDataParallel (FSDP2): measured on CPU, and by formula.

    python tools/benchmark_sharded_memory.py [--arch large] [--config CONFIG] [--steps 2] [--batch 2]
                                             [--world-size 2] [--skip-measure] [--ranks 8 16 64]

**Measured** (unless ``--skip-measure``): for each mode, DDP (mmengine's ``MMDistributedDataParallel``
with the arguments mae_mm's CPU launch gives it: ``device_ids=None, broadcast_buffers=False,
find_unused_parameters=False``, so torch's default ``gradient_as_bucket_view=False``) and
``mae_mm.ShardedDataParallel``, a fresh pair of processes (``--world-size``), launched as torchrun
launches them (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), gloo on the CPU, one
thread each, so that no peak mixes with another mode's. Each process builds the pretraining
config's ``model`` (``MODELS.build``; the MAE at ``--arch``, ViT-L/16 and the 8 x 512 decoder by
default), wraps it, makes AdamW (fp32, torch's default for-loop implementation: no fused or
foreach temporaries) and runs ``--steps`` train steps of the wrappers' own sequence
(preprocessor and forward in ``optim_context``, ``parse_losses``, backward, step, zero_grad) on
one batch of ``--batch`` random 224-px images, fp32, no autocast. The last step keeps its
gradients, so that parameters, gradients and both moments exist when the state is counted.

Each process records, from ``/proc/self/status``: ``VmRSS`` (resident now) at each point, and
``VmHWM`` (its peak resident), which is reset (``/proc/self/clear_refs``, ``5``) after the
baseline and after the setup, so the setup's peak and the steps' peak are separate figures;
``ru_maxrss`` is the whole life's peak and cannot be reset. The baseline is the RSS after
``import torch``, mmengine and mae_mm, the config and the process group, before any model.
Freed memory that glibc keeps is handed back (``gc.collect()`` then ``malloc_trim(0)``) before the
after-setup and the final readings, and the untrimmed reading is printed next to the trimmed one.
The bytes of state are counted from the tensors themselves: each parameter's, gradient's and
AdamW state's local tensor (``DTensor.to_local()`` for the sharded ones), numel x element size,
and DDP's gradient buckets from its reducer's logging data.

**Formula**: per-rank bytes of model state for MAE pretraining (encoder + 8 x 512 decoder, 224 px)
at ViT-H/14, ViT-g/14, ViT-2B/14 and ViT-6.5B/14, for each of ``--ranks``; the parameter count is
that of the model built on the ``meta`` device (the config's model with the encoder's arch
replaced), so it is exact. The measured model's own prediction is then set against what was measured.
"""
import argparse
import copy
import ctypes
import datetime
import gc
import glob
import json
import os
import os.path as osp
import platform
import resource
import shlex
import socket
import subprocess
import sys
import tempfile
import time

from mae_mm.benchmark import cpu_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # the repository (configs/)
GIB = 2 ** 30

# The sizes of the formula table: name, width, depth, MLP width, heads (the heads change no count).
# All patch 14 at 224 px (16 x 16 patches). ViT-g/14 and ViT-2B/14 as in the scaling-ViT papers
# (Zhai et al. 2022; ViT-2B as the MAE-style 2B in their follow-ups), ViT-6.5B as 4096 x 32.
FORMULA_ARCHS = (
    ('ViT-H/14', dict(embed_dim=1280, depth=32, mlp=5120, num_heads=16, patch_size=14)),
    ('ViT-g/14', dict(embed_dim=1408, depth=40, mlp=6144, num_heads=16, patch_size=14)),
    ('ViT-2B/14', dict(embed_dim=2560, depth=24, mlp=10240, num_heads=32, patch_size=14)),
    ('ViT-6.5B/14', dict(embed_dim=4096, depth=32, mlp=16384, num_heads=32, patch_size=14)),
)


# ----------------------------------------------------------------------------------------- helpers
def proc_status() -> dict:
    """VmRSS and VmHWM of this process, in bytes."""
    out = {}
    with open('/proc/self/status') as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'VmHWM'):
                out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where the kernel refuses."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def trim() -> None:
    """Frees unreachable objects and hands glibc's free memory back to the OS."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def gib(n: float) -> str:
    return f'{n / GIB:.2f}'


def config_for(arch: str) -> str:
    """The 800-epoch pretraining config of ``arch``, else the ViT-B one (its arch is then replaced)."""
    found = sorted(glob.glob(osp.join(ROOT, 'configs', 'pretrain', f'mae_vit-{arch}-p*_8xb512-amp-coslr-800e_in1k.py')))
    base = osp.join(ROOT, 'configs', 'pretrain', 'mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py')
    return found[0] if found else base


def load_model_cfg(config: str, arch=None) -> dict:
    """The config's ``model`` dict (``arch`` replacing the encoder's where given), in scope mae_mm."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    cfg = Config.fromfile(config)
    DefaultScope.get_instance(f'benchmark_sharded_memory_{time.monotonic_ns()}',
                              scope_name=cfg.get('default_scope', 'mae_mm'))
    model = cfg.model.to_dict()
    if arch is not None:
        model['encoder']['arch'] = arch
    return model, cfg


def tensor_bytes(t) -> int:
    from torch.distributed.tensor import DTensor
    if isinstance(t, DTensor):
        t = t.to_local()
    return t.numel() * t.element_size()


def state_bytes(wrapper, optimizer) -> dict:
    """Bytes of this process's parameters, gradients and optimizer state (local shards)."""
    import torch
    params = list(wrapper.parameters())
    moments = sum(tensor_bytes(v) for state in optimizer.state.values() for v in state.values()
                  if isinstance(v, torch.Tensor))
    return dict(params=sum(tensor_bytes(p) for p in params),
                grads=sum(tensor_bytes(p.grad) for p in params if p.grad is not None),
                optimizer=moments,
                numel_local=sum((p.to_local() if hasattr(p, 'to_local') else p).numel() for p in params))


def ddp_bucket_bytes(ddp) -> int:
    """Bytes of DDP's gradient buckets (its reducer's logging data; 0 where it says nothing)."""
    try:
        data = ddp._get_ddp_logging_data()
    except Exception:  # noqa: BLE001  (private API: a figure, not a failure)
        return 0
    sizes = data.get('bucket_sizes')
    if not sizes:
        return 0
    return sum(int(s) for s in str(sizes).split(',') if s.strip())


# ------------------------------------------------------------------------------------------ worker
def worker(args) -> None:
    """One rank of one mode; writes its figures as JSON to ``args.out``."""
    readings = []
    start = time.perf_counter()

    def read(point: str):
        readings.append(dict(point=point, seconds=round(time.perf_counter() - start, 1), **proc_status()))

    import logging

    import torch
    import torch.distributed as dist
    from mmengine.logging import MMLogger
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper

    from mae_mm.runtime import setup_runtime
    setup_runtime()
    import mae_mm.models  # noqa: F401  (registers the models)
    from mae_mm.parallel import ShardedDataParallel
    from mae_mm.registry import MODELS

    torch.set_num_threads(1)
    rank, world = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
    dist.init_process_group('gloo', rank=rank, world_size=world, timeout=datetime.timedelta(minutes=10))
    model_cfg, cfg = load_model_cfg(args.config, args.arch_override)
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # init_weights logs every parameter
    opt_cfg = dict(cfg.optim_wrapper.optimizer)
    gen = torch.Generator().manual_seed(rank)
    imgs = torch.randint(0, 256, (args.batch, 3, 224, 224), dtype=torch.uint8, generator=gen)
    data = dict(inputs=imgs, data_samples=None)
    torch.manual_seed(rank)
    trim()
    read('baseline')
    peak_reset = reset_peak()

    model = MODELS.build(model_cfg)
    read('model built')
    if args.mode == 'ddp':
        model.init_weights()  # the Runner does it after wrapping; the same memory
        wrapper = MMDistributedDataParallel(model, device_ids=None, broadcast_buffers=False,
                                            find_unused_parameters=False)
    else:
        wrapper = ShardedDataParallel(model)  # init_weights, broadcast from rank 0, then fully_shard
    read('wrapped')
    optimizer = torch.optim.AdamW(wrapper.parameters(), lr=opt_cfg.get('lr', 1.5e-4),
                                  betas=tuple(opt_cfg.get('betas', (0.9, 0.999))),
                                  weight_decay=opt_cfg.get('weight_decay', 0.05))
    optim_wrapper = OptimWrapper(optimizer)
    read('optimizer built')
    setup_peak = proc_status()['VmHWM']
    trim()
    read('after setup, trimmed')
    reset_peak()

    step_peaks, step_seconds, activations = [], [], []
    for step in range(args.steps):
        last = step == args.steps - 1
        read(f'step {step + 1} start')
        reset_peak()
        t0 = time.perf_counter()
        saved = {}

        def pack(t):
            # activations kept for backward: each storage once; parameters (leaves that need grads) and
            # views of them (a Linear's transposed weight; under FSDP2 views of the gathered weights) left out
            base = t if t._base is None else t._base
            if not (base.is_leaf and base.requires_grad):
                storage = t.untyped_storage()
                saved.setdefault(storage.data_ptr(), storage.nbytes())
            return t

        # the sequence of MMDistributedDataParallel.train_step / ShardedDataParallel.train_step, with
        # OptimWrapper.update_params split so that the last step keeps its gradients
        with optim_wrapper.optim_context(wrapper), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            batch = model.data_preprocessor(data, training=True)
            losses = wrapper._run_forward(batch, mode='loss')
        activations.append(sum(saved.values()))
        del saved
        loss, _ = model.parse_losses(losses)
        optim_wrapper.backward(loss)
        read(f'step {step + 1} after backward')
        optim_wrapper.step()
        read(f'step {step + 1} after optimizer step')
        if not last:
            optim_wrapper.zero_grad()
        step_seconds.append(time.perf_counter() - t0)
        step_peaks.append(proc_status()['VmHWM'])
    final_untrimmed = proc_status()['VmRSS']
    trim()
    read('end (params, grads, moments), trimmed')
    result = dict(mode=args.mode, rank=rank, world=world, readings=readings, setup_peak=setup_peak,
                  step_peaks=step_peaks, step_seconds=step_seconds, activations=activations,
                  final_untrimmed=final_untrimmed,
                  ru_maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  peak_reset=peak_reset, bytes=state_bytes(wrapper, optimizer),
                  buckets=ddp_bucket_bytes(wrapper) if args.mode == 'ddp' else 0,
                  seconds=time.perf_counter() - start)
    if args.mode == 'sharded':
        from torch.distributed.tensor import DTensor
        result['sharded_params'] = sum(isinstance(p, DTensor) for p in model.parameters())
        result['num_params'] = len(list(model.parameters()))
    with open(args.out, 'w') as f:
        json.dump(result, f)
    dist.barrier()
    dist.destroy_process_group()


# ------------------------------------------------------------------------------------------ parent
def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_mode(mode: str, args, tmp: str) -> list:
    """Starts ``args.world_size`` fresh worker processes of ``mode``; their results, by rank."""
    port = free_port()
    procs, outs = [], []
    for rank in range(args.world_size):
        out = osp.join(tmp, f'{mode}_{rank}.json')
        log = open(osp.join(tmp, f'{mode}_{rank}.log'), 'w')
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(args.world_size),
                   MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), OMP_NUM_THREADS='1',
                   PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
        cmd = [sys.executable, '-m', 'mae_mm.benchmark.sharded_memory', '--worker', mode, '--out', out,
               '--config', args.config, '--steps', str(args.steps), '--batch', str(args.batch)]
        if args.arch_override:
            cmd += ['--arch-override', args.arch_override]
        procs.append((subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), log))
        outs.append(out)
    deadline = time.monotonic() + args.timeout
    failed = False
    while any(p.poll() is None for p, _ in procs):
        if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p, _ in procs):
            failed = True
            break
        time.sleep(0.5)
    for p, log in procs:
        if p.poll() is None:
            p.kill()  # only the workers this call started
            p.wait()
        log.close()
    if failed or any(p.returncode != 0 for p, _ in procs):
        for rank in range(args.world_size):
            with open(osp.join(tmp, f'{mode}_{rank}.log')) as f:
                print(f'--- {mode} rank {rank} (exit {procs[rank][0].returncode}) ---\n{f.read()[-4000:]}')
        raise SystemExit(f'{mode}: a worker failed or ran past --timeout {args.timeout} s')
    results = []
    for out in outs:
        with open(out) as f:
            results.append(json.load(f))
    return results


def model_counts(model_cfg: dict) -> dict:
    """Parameter counts of ``model_cfg`` built on ``meta``: total, largest Block, outside the Blocks."""
    import torch

    from mae_mm.registry import MODELS
    with torch.device('meta'):
        model = MODELS.build(copy.deepcopy(model_cfg))
    blocks = [m for m in model.modules() if type(m).__name__ == 'Block']
    in_blocks = {id(p) for b in blocks for p in b.parameters()}
    total = sum(p.numel() for p in model.parameters())
    return dict(total=total, encoder=sum(p.numel() for p in model.encoder.parameters()),
                decoder=sum(p.numel() for p in model.decoder.parameters()),
                unit=max(sum(p.numel() for p in b.parameters()) for b in blocks),
                root=sum(p.numel() for p in model.parameters() if id(p) not in in_blocks),
                mlp=max(b.mlp.fc1.out_features for b in blocks))


def formula_arch(name: str, dims: dict):
    """The VIT_ARCHS preset of these dimensions where there is one, else the same dims as a dict."""
    from mae_mm.models.vit.arch import VIT_ARCHS
    for preset, a in VIT_ARCHS.items():
        if (a['embed_dim'], a['depth'], a['patch_size']) == (dims['embed_dim'], dims['depth'], dims['patch_size']) \
                and int(a['embed_dim'] * a.get('mlp_ratio', 4.0)) == dims['mlp']:
            return preset, f'VIT_ARCHS[{preset!r}]'
    # int(d * ratio) is the Block's MLP width: half a unit above keeps float error from rounding down
    arch = dict(embed_dim=dims['embed_dim'], depth=dims['depth'], num_heads=dims['num_heads'],
                patch_size=dims['patch_size'], mlp_ratio=(dims['mlp'] + 0.5) / dims['embed_dim'])
    return arch, 'dims given here (no VIT_ARCHS preset)'


def formula(P: int, unit: int, root: int, n: int) -> dict:
    """Per-rank bytes (fp32 params, fp32 grads, AdamW's two fp32 moments) on ``n`` ranks."""
    ddp_state = 16 * P
    ddp_buckets = 4 * P  # gradient_as_bucket_view=False: the buckets are a second copy of the grads
    sharded_state = 16 * P / n
    # while a block runs backward: the root's gathered params and grads (the root stays gathered from
    # its forward to its backward), the block's gathered params, the next block's (prefetched), and
    # the block's unsharded grads before the reduce-scatter; activations not included
    gathered = 8 * root + 12 * unit
    return dict(ddp=ddp_state, ddp_buckets=ddp_buckets, sharded=sharded_state, gathered=gathered,
                checkpoint=12 * P)


def print_formula(args, model_cfg):
    import torch  # noqa: F401
    print('\n## Formula: per-rank bytes of model state (fp32 params 4P, grads 4P, AdamW moments 8P)\n')
    print('MAE pretraining model (encoder + decoder 8 x 512, 224 px), P counted on the `meta` device. '
          'DDP: 16P, +4P of gradient buckets (torch DDP default `gradient_as_bucket_view=False`, which '
          "mmengine's wrapper and mae_mm's launch keep). Sharded: 16P/N + gathered units "
          '(8 x root params + 12 x largest block: the root gathered with its grads, the running block and '
          'the prefetched one, the running block\'s unsharded grads). Sharded setup: mmengine\'s Runner builds '
          'the whole model on every rank and moves it to the device before the wrapper shards it, so each rank '
          'holds the whole fp32 model (4P) once, on the host and then on the device. Checkpoint: the full state '
          'rank 0\'s host holds while saving (params 4P + moments 8P). Activations are not included. '
          'GiB = 2^30 bytes.\n')
    header = '| model | P (M) | enc / dec (M) | largest unit (M) | size from | DDP 16P (+4P buckets) |'
    sep = '| --- | ---: | ---: | ---: | --- | ---: |'
    for n in args.ranks:
        header += f' sharded, {n} ranks: 16P/N + gathered |'
        sep += ' ---: |'
    header += ' sharded setup: whole model per rank (4P) | rank 0 host at checkpoint (12P) |'
    sep += ' ---: | ---: |'
    print(header)
    print(sep)
    rows = []
    for name, dims in FORMULA_ARCHS:
        arch, source = formula_arch(name, dims)
        cfg = copy.deepcopy(model_cfg)
        cfg['encoder']['arch'] = arch
        counts = model_counts(cfg)
        if counts['mlp'] != dims['mlp']:
            raise RuntimeError(f'{name}: the built MLP is {counts["mlp"]} wide, not {dims["mlp"]}')
        P = counts['total']
        row = f'| {name} ({dims["embed_dim"]} x {dims["depth"]}, MLP {dims["mlp"]}) | {P / 1e6:,.1f} | ' \
              f'{counts["encoder"] / 1e6:,.1f} / {counts["decoder"] / 1e6:,.1f} | {counts["unit"] / 1e6:.1f} | ' \
              f'{source} | '
        f1 = formula(P, counts['unit'], counts['root'], 1)
        row += f'{gib(f1["ddp"])} (+{gib(f1["ddp_buckets"])}) = {gib(f1["ddp"] + f1["ddp_buckets"])} GiB |'
        for n in args.ranks:
            f = formula(P, counts['unit'], counts['root'], n)
            row += f' {gib(f["sharded"])} + {gib(f["gathered"])} = {gib(f["sharded"] + f["gathered"])} GiB |'
        row += f' {gib(4 * P)} GiB | {gib(f1["checkpoint"])} GiB |'
        print(row)
        rows.append((name, P))
    return rows


def print_measured(args, results: dict, counts: dict):
    world = args.world_size
    print(f'\n## Measured: {world} processes per mode on this CPU (gloo), batch {args.batch} x 224 px fp32, '
          f'{args.steps} step(s), AdamW fp32\n')
    P = counts['total']
    print(f'Model: {osp.relpath(args.config, ROOT)}'
          f'{" with encoder.arch=" + args.arch_override if args.arch_override else ""}: P = {P:,} '
          f'(encoder {counts["encoder"]:,}, decoder {counts["decoder"]:,}); largest unit (one encoder Block) '
          f'{counts["unit"]:,}, outside the Blocks {counts["root"]:,}.\n')
    if not all(r['peak_reset'] for ranks in results.values() for r in ranks):
        print('WARNING: this kernel refused to reset VmHWM (/proc/self/clear_refs): every peak below is the '
              "process's peak since its start, the setup's included.\n")
    print('Per rank, GiB. RSS = VmRSS, peaks = VmHWM (reset after the baseline and after the setup). '
          '"model state" counts the local tensors: params + grads + AdamW moments (+ DDP buckets).\n')
    print('| mode | rank | baseline RSS | setup peak | after setup (trimmed) | steps peak | end RSS untrimmed / '
          'trimmed | end RSS - baseline | model state (params + grads + moments + buckets) | activations saved '
          'for backward | ru_maxrss | s/step |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |')
    for mode, ranks in results.items():
        for r in ranks:
            rd = {x['point']: x for x in r['readings']}
            base = rd['baseline']['VmRSS']
            end = r['readings'][-1]['VmRSS']
            b = r['bytes']
            total = b['params'] + b['grads'] + b['optimizer'] + r['buckets']
            print(f'| {mode} | {r["rank"]} | {gib(base)} | {gib(r["setup_peak"])} | '
                  f'{gib(rd["after setup, trimmed"]["VmRSS"])} | {gib(max(r["step_peaks"]))} | '
                  f'{gib(r["final_untrimmed"])} / {gib(end)} | {gib(end - base)} | '
                  f'{gib(total)} = {gib(b["params"])} + {gib(b["grads"])} + {gib(b["optimizer"])} + '
                  f'{gib(r["buckets"])} | {gib(max(r["activations"]))} | {gib(r["ru_maxrss"])} | '
                  f'{sum(r["step_seconds"]) / len(r["step_seconds"]):.1f} |')
    print('\nPoint by point (rank 0): VmRSS (VmHWM since the last reset), GiB')
    for mode, ranks in results.items():
        r = ranks[0]
        pts = ', '.join(f'{x["point"]} {gib(x["VmRSS"])} ({gib(x["VmHWM"])})' for x in r['readings'])
        print(f'- {mode}: {pts}')
    print('\nFormula against measurement, rank 0 (end of the last step: params, grads, moments held; trimmed):\n')
    print('| mode | predicted model state | counted from tensors | end RSS - baseline | measured / predicted | '
          'steps peak - end RSS (activations, gathered units, temporaries, memory malloc kept) |')
    print('| --- | ---: | ---: | ---: | ---: | ---: |')
    for mode, ranks in results.items():
        r = ranks[0]
        f = formula(P, counts['unit'], counts['root'], world)
        predicted = f['ddp'] + f['ddp_buckets'] if mode == 'ddp' else f['sharded']
        b = r['bytes']
        counted = b['params'] + b['grads'] + b['optimizer'] + r['buckets']
        base = r['readings'][0]['VmRSS']
        end = r['readings'][-1]['VmRSS']
        label = '20P (16P + 4P buckets)' if mode == 'ddp' else f'16P/{world}'
        print(f'| {mode} | {label} = {gib(predicted)} | {gib(counted)} | {gib(end - base)} | '
              f'{(end - base) / predicted:.2f} | {gib(max(r["step_peaks"]) - end)} |')
    kept = ', '.join(f'{mode} {gib(ranks[0]["final_untrimmed"] - ranks[0]["readings"][-1]["VmRSS"])}'
                     for mode, ranks in results.items())
    print(f'\nFreed but still resident at the end until malloc_trim(0) (glibc keeps it), rank 0, GiB: {kept}. '
          'Where this is large, glibc\'s dynamic mmap threshold is why: after a large block is freed, blocks up to '
          '32 MiB come from the heap, whose free pages stay resident; MALLOC_MMAP_THRESHOLD_=1048576 (a fixed '
          'threshold) shows the RSS without it.')
    if 'ddp' in results and 'sharded' in results:
        d, s = results['ddp'][0], results['sharded'][0]
        d_end = d['readings'][-1]['VmRSS'] - d['readings'][0]['VmRSS']
        s_end = s['readings'][-1]['VmRSS'] - s['readings'][0]['VmRSS']
        print(f'\nSharded / DDP, rank 0: end RSS above baseline {s_end / d_end:.2f}, steps peak '
              f'{max(s["step_peaks"]) / max(d["step_peaks"]):.2f}, setup peak {s["setup_peak"] / d["setup_peak"]:.2f}; '
              f'{s.get("sharded_params")}/{s.get("num_params")} parameters are DTensors.')


def header_lines(args) -> list:
    import mmengine
    import torch
    cpu = cpu_model()
    mem = ''
    try:
        with open('/proc/meminfo') as f:
            mem = f'{int(next(line for line in f if line.startswith("MemTotal")).split()[1]) / 2 ** 20:.1f} GiB RAM'
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(['git', 'describe', '--always', '--dirty'], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip() or 'unknown'
    except OSError:
        commit = 'unknown'
    argv = ' '.join(shlex.quote(a) for a in sys.argv)
    return [f'command: python {argv}',
            f'date: {datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}, mae_mm at git {commit}',
            f'hardware: {cpu}, {len(os.sched_getaffinity(0))} cores usable ({os.cpu_count()} online), {mem}, '
            f'kernel {platform.release()}',
            f'versions: python {platform.python_version()}, torch {torch.__version__} '
            f'(CUDA available: {torch.cuda.is_available()}), mmengine {mmengine.__version__}',
            'allocator environment: ' + (' '.join(f'{k}={v}' for k, v in sorted(os.environ.items())
                                                  if k.startswith('MALLOC_')) or 'glibc defaults')]


def main():
    """The command line of tools/benchmark_sharded_memory.py (and of each worker process it starts)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--arch', default=None, help='size of the measured model, a VIT_ARCHS name (default: '
                        "large, or the --config's own); replaces the config's encoder arch")
    parser.add_argument('--config', default=None, help="pretraining config whose `model` is measured "
                        "(default: the --arch 800-epoch pretraining config, the ViT-B one with its arch replaced "
                        "where the size has none)")
    parser.add_argument('--steps', type=int, default=2)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--world-size', type=int, default=2, help='processes per mode in the measured part')
    parser.add_argument('--modes', nargs='+', default=['ddp', 'sharded'], choices=['ddp', 'sharded'])
    parser.add_argument('--skip-measure', action='store_true', help='the formula table only')
    parser.add_argument('--ranks', type=int, nargs='+', default=[8, 16, 64])
    parser.add_argument('--timeout', type=float, default=900, help='seconds per mode before its workers are killed')
    parser.add_argument('--worker', choices=['ddp', 'sharded'], help=argparse.SUPPRESS)
    parser.add_argument('--out', help=argparse.SUPPRESS)
    parser.add_argument('--arch-override', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.mode = args.worker
        worker(args)
        return
    t0 = time.perf_counter()
    if args.config is None:
        args.arch = args.arch or 'large'
        args.config = config_for(args.arch)
    args.config = osp.abspath(args.config)

    from mae_mm.runtime import setup_runtime
    setup_runtime()
    import mae_mm.models  # noqa: F401
    from mae_mm.models.vit.arch import VIT_ARCHS
    model_cfg, _ = load_model_cfg(args.config)
    args.arch_override = None
    if args.arch is not None and model_cfg['encoder']['arch'] != args.arch:
        if args.arch not in VIT_ARCHS:
            parser.error(f'--arch {args.arch}: not one of {sorted(VIT_ARCHS)}')
        args.arch_override = args.arch  # the config is another size's: its encoder takes --arch
        model_cfg['encoder']['arch'] = args.arch
    for line in header_lines(args):
        print(line)

    if not args.skip_measure:
        counts = model_counts(model_cfg)
        results = {}
        with tempfile.TemporaryDirectory(prefix='sharded_memory_') as tmp:
            for mode in args.modes:
                t = time.perf_counter()
                results[mode] = run_mode(mode, args, tmp)
                print(f'[{mode}: {args.world_size} processes, {time.perf_counter() - t:.0f} s]', flush=True)
        print_measured(args, results, counts)
    print_formula(args, model_cfg)
    print(f'\ntotal time {time.perf_counter() - t0:.0f} s')


if __name__ == '__main__':
    main()
