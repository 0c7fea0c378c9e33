"""One script for one GPU: does the whole stack work there, and how fast is it.

    python tools/gpu_check.py [--budget SECONDS] [--out DIR] [--rows 1,3,...] [--smoke]

Rows, in their order of importance; each has its own time cap, and the total is ``--budget``:

1. ``cuda_ops``: mmcv's RoIAlign (forward, backward, fp16) and NMS on the device's tensors,
   against torchvision's on the same tensors;
2. ``demo_tasks``: a few iterations of each demo task (pretrain, fine-tune, linear probe, COCO,
   ADE20K) through tools/train.py under mixed precision (bf16; fp16 for Mask R-CNN, whose RoIAlign
   has no bf16 kernel): every logged loss finite, and the loss moves;
3. ``mae_vit-b``: MAE ViT-B/16, batch 512, compiled, against mmpretrain compiled (tools/benchmark.py
   ``--vs-mmpretrain``, both in one process, windows alternating);
4. ``mae_vit-l``: the same for ViT-L/16 at batch 256;
5. ``finetune_vit-b``: ViT-B fine-tuning, batch 256, compiled, fused AdamW, against mmpretrain's ViT;
6. ``mask-rcnn_vit-b``: Mask R-CNN ViT-B at 1024 x 1024, fp16, batch 4;
7. ``upernet_vit-b``: UperNet ViT-B at 512 x 512, bf16, batch 4, against mmseg's MAE UperNet;
8. ``jpeg_pipeline``: the ViT-B pretraining step fed by the JPEG pipeline with CPU decode (one
   worker per core) and with GPU decode, each against the synthetic rate of row 3;
9. ``eager``: rows 3-5 without torch.compile, if time is left.

After every row it rewrites ``DIR/gpu_check.json`` and ``DIR/gpu_check.md`` (device, versions,
date, one line per row), so a run cut off at any point still leaves what it measured. A row
that did not finish (cut at its cap, the budget spent, its process died, not chosen by
``--rows``) is reported as not finished with the reason, never dropped. The rows run in a worker
process (output in ``DIR/gpu_check.log``), which is killed at a row's cap and replaced after a
row that failed, so one row's crash or a poisoned CUDA context does not take the next rows along.

``--smoke`` runs the same rows through the same code on the CPU at toy sizes (the demo configs,
or the real ones shrunk to the demo ViT; batch 2, one timed step, no compile, fp32): what the
tests run. Exit status 1 when a row failed or raised or no GPU is visible (without --smoke), else 0.
"""
import argparse
import contextlib
import datetime
import gc
import importlib.util
import io
import json
import math
import os
import os.path as osp
import platform
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(ROOT, 'tools')
MARK = '@@gpu_check '  # prefix of the worker's messages on its stdout; everything else is log

DEMO = 'configs/demo/'
DEMO_PRETRAIN = DEMO + 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'
DEMO_TASKS = [  # (name, config, amp on CUDA)
    ('pretrain', DEMO_PRETRAIN, 'bf16'),
    ('finetune', DEMO + 'vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', 'bf16'),
    ('linprobe', DEMO + 'vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py', 'bf16'),
    ('coco', DEMO + 'mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py', 'fp16'),
    ('ade20k', DEMO + 'upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py', 'bf16'),
]
PRETRAIN_B = 'configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'
PRETRAIN_L = 'configs/pretrain/mae_vit-large-p16_8xb512-amp-coslr-800e_in1k.py'
PRETRAIN_B_GPU_DECODE = 'configs/pretrain/mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py'
FINETUNE_B = 'configs/finetune/vit-base-p16_8xb128-coslr-100e_in1k.py'
MASK_RCNN_B = 'configs/coco/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'
UPERNET_B = 'configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

# --smoke: a real pretraining config shrunk to the demo ViT (what the demo config does to ViT-B)
TOY_PRETRAIN = """_base_ = {base!r}
vit = _base_.vit_sizes.tiny_p8
model = dict(encoder=dict(arch=vit.arch, pretrain_img_size=64, patch_size=vit.patch_size),
             decoder=dict(embed_dim=128, depth=2, num_heads=4))
"""
TOY_GPU_DECODE_PIPELINE = """train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadJpegBytes'),
    dict(type='RandomResizedCropParams', scale=64, crop_ratio_range=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlipParams', prob=0.5),
    dict(type='PackJpegBytes')]))
"""


# ----------------------------------------------------------------------------------------------
# the rows (they run in the worker process)

@dataclass
class Context:
    """What a row needs to know: the device, smoke or not, where to write, earlier rows' parts."""
    device: str
    smoke: bool
    out: str
    earlier: Dict[str, List[dict]] = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.device.startswith('cuda')

    def config(self, real: str, smoke: str, toy_body: Optional[str] = None) -> str:
        """``real`` on the GPU; under --smoke ``smoke``, or ``real`` shrunk by ``toy_body`` (written
        under DIR/configs)."""
        if not self.smoke:
            return real
        if toy_body is None:
            return smoke
        folder = osp.join(self.out, 'configs')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, 'toy_' + osp.basename(real))
        with open(path, 'w') as f:
            f.write(toy_body.format(base=osp.join(ROOT, real)))
        return path


def part(name: str, ok: bool, summary: str, **figures) -> dict:
    return dict(name=name, ok=bool(ok), summary=summary, **figures)


def attempt(name: str, fn: Callable[[], dict]) -> dict:
    """``fn()``'s part, or a failed part naming the exception (a row's other parts still run)."""
    try:
        return fn()
    except (Exception, SystemExit) as err:  # tools/benchmark.py refuses with SystemExit
        return part(name, False, f'{type(err).__name__}: {err}'.strip(), error=True)


def free_memory(ctx: Context) -> None:
    """Drops what a part left behind: compiled graphs, cached CUDA blocks, mmengine scopes."""
    import torch
    from mmengine.registry import DefaultScope
    gc.collect()
    torch._dynamo.reset()
    DefaultScope._instance_dict.clear()
    if ctx.cuda:
        torch.cuda.empty_cache()


def row_cuda_ops(ctx: Context):
    import mmcv
    import torch
    import torchvision
    from mmcv.ops import get_compiling_cuda_version, nms, roi_align

    built = get_compiling_cuda_version()
    has_cuda = built != 'not available'
    yield part('mmcv build', has_cuda or not ctx.cuda,
               f'mmcv {mmcv.__version__}, CUDA ops: {"CUDA " + built if has_cuda else "none (CPU only)"}',
               mmcv_cuda=built)
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 16, 64, 64, generator=gen)
    xy = torch.rand(128, 2, generator=gen) * 200
    wh = torch.rand(128, 2, generator=gen) * 50 + 4
    # (K, 5): image index, x1, y1, x2, y2 on a 256 px image (features at stride 4)
    rois = torch.cat([torch.randint(2, (128, 1), generator=gen).float(), xy, xy + wh], dim=1)

    def align():
        x = feats.to(ctx.device).requires_grad_()
        r = rois.to(ctx.device)
        ours = roi_align(x, r, (7, 7), 0.25, 2, 'avg', True)
        ours.square().sum().backward()
        x_ref = feats.to(ctx.device).requires_grad_()
        ref = torchvision.ops.roi_align(x_ref, r, (7, 7), 0.25, 2, True)
        ref.square().sum().backward()
        fwd = (ours - ref).abs().max().item()
        bwd = (x.grad - x_ref.grad).abs().max().item()
        ok = ours.device.type == x.device.type and fwd < 1e-4 and bwd < 1e-4
        figures = dict(forward_max_diff=fwd, backward_max_diff=bwd)
        summary = (f'RoIAlign on {ours.device}, 128 rois: largest difference to torchvision {fwd:.1e} forward, '
                   f'{bwd:.1e} backward')
        if ctx.cuda:  # Mask R-CNN's fp16 path (there is no bf16 kernel)
            half = roi_align(x.detach().half(), r.half(), (7, 7), 0.25, 2, 'avg', True)
            figures['fp16_max_diff'] = (half.float() - ref.detach()).abs().max().item()
            ok = ok and half.dtype == torch.float16 and figures['fp16_max_diff'] < 5e-2
            summary += f', fp16 {figures["fp16_max_diff"]:.1e}'
        return part('RoIAlign', ok, summary, **figures)

    def suppress():
        boxes = torch.cat([xy, xy + wh], dim=1).to(ctx.device)
        scores = torch.rand(128, generator=gen).to(ctx.device)
        _, keep = nms(boxes, scores, 0.5)
        ref = torchvision.ops.nms(boxes, scores, 0.5)
        ok = keep.device.type == boxes.device.type and torch.equal(keep.sort().values, ref.sort().values)
        return part('NMS', ok, f'NMS on {keep.device}: keeps {len(keep)} of 128 boxes, torchvision {len(ref)}'
                    + (' (the same)' if ok else ' (they differ)'), kept=len(keep), kept_torchvision=len(ref))

    if ctx.cuda and not has_cuda:
        yield part('RoIAlign / NMS', False, 'not run: this mmcv has no CUDA ops (bash tools/install.sh --cuda)')
        return
    yield attempt('RoIAlign', align)
    yield attempt('NMS', suppress)


def load_tool(name: str):
    """tools/NAME.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f'mae_mm_tools_{name}', osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def argv(*args):
    saved = sys.argv
    sys.argv = list(args)
    try:
        yield
    finally:
        sys.argv = saved


def logged_losses(work_dir: str) -> List[float]:
    """The ``loss`` of every logged iteration in the run's scalars.json (LocalVisBackend)."""
    paths = sorted(osp.join(d, f) for d, _, fs in os.walk(work_dir) for f in fs if f == 'scalars.json')
    if not paths:
        raise FileNotFoundError(f'no scalars.json under {work_dir}: the run logged no iteration')
    with open(paths[-1]) as f:
        return [json.loads(line)['loss'] for line in f if '"loss"' in line]


def row_demo_tasks(ctx: Context):
    from mmengine.config import Config
    if not osp.isdir(osp.join(ROOT, 'data', 'demo', 'coco')):
        subprocess.run([sys.executable, osp.join(TOOLS, 'make_demo_data.py'), '--out', 'data/demo'],
                       cwd=ROOT, check=True, stdout=sys.stdout, stderr=sys.stderr)
    train = load_tool('train')
    iters = 2 if ctx.smoke else 6

    def one(name, config, amp):
        cfg = Config.fromfile(osp.join(ROOT, config))
        loader = cfg.train_dataloader
        options = ['default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1000000']
        if 'backbone' in cfg.model:
            options.append('model.backbone.init_cfg=None')  # no demo pretraining checkpoint needed
        if 'max_iters' in cfg.train_cfg:
            options += [f'train_cfg.max_iters={iters}', 'train_cfg.val_interval=1000000']
        else:  # one epoch of `iters` batches
            options += ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1000000',
                        f'train_dataloader.dataset.indices={iters * loader.batch_size}']
        if ctx.smoke:
            options += ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']
        work_dir = osp.join(ctx.out, 'demo_tasks', name)
        args = ['train.py', osp.join(ROOT, config), '--work-dir', work_dir, '--cfg-options', *options]
        if ctx.cuda:
            args[2:2] = ['--amp', amp]
        start = time.perf_counter()
        with argv(*args):
            train.main()
        seconds = time.perf_counter() - start
        losses = logged_losses(work_dir)
        finite = bool(losses) and all(math.isfinite(v) for v in losses)
        moved = len(losses) >= 2 and losses[-1] != losses[0]
        precision = amp if ctx.cuda else 'fp32'
        shown = ', '.join(f'{v:.5g}' for v in losses)
        return part(name, finite and moved, f'{name}: {len(losses)} it {precision}, loss {shown}'
                    + ('' if finite else ' NOT FINITE') + ('' if moved else ' (does not move)'),
                    losses=losses, precision=precision, seconds=round(seconds, 1))

    for name, config, amp in DEMO_TASKS:
        yield attempt(name, lambda: one(name, config, amp))
        free_memory(ctx)


RATE = re.compile(r'^(?P<label>\w+): (?P<rate>[0-9.]+) img/s \(.*\), (?P<memory>[0-9.]+ GiB [^\n]*)$', re.M)
RATIO = re.compile(r'^ratio mae_mm / (?P<ref>\w+): (?P<ratio>[0-9.]+)$', re.M)
SETUP = re.compile(r'^(?P<label>\w+): (?P<wrapper>\w+), (?P<fused>\w+) \w+, compiled: (?P<compiled>\w+)$', re.M)


class Tee(io.StringIO):
    """Keeps what is printed and passes it on to the log."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def write(self, text):
        self.stream.write(text)
        return super().write(text)


def benchmark(ctx: Context, name: str, config: str, batch: int, *flags: str) -> dict:
    """One tools/benchmark.py run in this process; its figures as a part."""
    bench = load_tool('benchmark')
    timing = ['--batch', '2', '--steps', '1', '--windows', '1', '--warmup', '1'] if ctx.smoke else \
        ['--batch', str(batch), '--steps', '5', '--windows', '3', '--warmup', '2']
    if ctx.smoke:
        flags = tuple(f for f in flags if f not in ('--compile', '--amp', 'bf16', 'fp16'))
    args = [osp.join(ROOT, config), *timing, *flags, '--device', ctx.device]
    tee = Tee(sys.stdout)
    try:
        with contextlib.redirect_stdout(tee), argv('benchmark.py', *args):
            bench.main()
    finally:
        free_memory(ctx)
    out = tee.getvalue()
    rates = {m['label']: dict(img_s=float(m['rate']), memory=m['memory']) for m in RATE.finditer(out)}
    setups = {m['label']: m['compiled'] for m in SETUP.finditer(out)}
    ratio = RATIO.search(out)
    if 'mae_mm' not in rates:
        raise RuntimeError(f'tools/benchmark.py printed no mae_mm rate:\n{out[-2000:]}')
    shown = [f'{label} {r["img_s"]:,.1f} img/s ({r["memory"]}, compiled: {setups.get(label, "?")})'
             for label, r in rates.items()]
    figures = dict(rates=rates, command='python tools/benchmark.py ' + ' '.join(
        [config, *timing, *flags]).replace(ROOT + '/', ''))
    if ratio:
        figures['ratio'] = float(ratio['ratio'])
        shown.append(f'ratio {ratio["ratio"]}')
    return part(name, True, f'{name}: ' + ', '.join(shown), **figures)


def row_mae_b(ctx):
    yield attempt('vit-b/16 b512 compiled', lambda: benchmark(
        ctx, 'vit-b/16 b512 compiled', ctx.config(PRETRAIN_B, None, TOY_PRETRAIN), 512, '--compile',
        '--vs-mmpretrain'))


def row_mae_l(ctx):
    yield attempt('vit-l/16 b256 compiled', lambda: benchmark(
        ctx, 'vit-l/16 b256 compiled', ctx.config(PRETRAIN_L, None, TOY_PRETRAIN), 256, '--compile',
        '--vs-mmpretrain'))


def row_finetune_b(ctx):
    yield attempt('vit-b/16 fine-tune b256 compiled', lambda: benchmark(
        ctx, 'vit-b/16 fine-tune b256 compiled', ctx.config(FINETUNE_B, DEMO_TASKS[1][1]), 256, '--compile',
        '--fused', '--vs-mmpretrain'))


def row_mask_rcnn_b(ctx):
    yield attempt('mask r-cnn vit-b 1024 fp16', lambda: benchmark(
        ctx, 'mask r-cnn vit-b 1024 fp16', ctx.config(MASK_RCNN_B, DEMO_TASKS[3][1]), 4, '--amp', 'fp16'))


def row_upernet_b(ctx):
    yield attempt('upernet vit-b 512 bf16', lambda: benchmark(
        ctx, 'upernet vit-b 512 bf16', ctx.config(UPERNET_B, DEMO_TASKS[4][1]), 4, '--amp', 'bf16', '--vs-mmseg'))


def row_jpeg(ctx):
    synthetic = next((p['rates']['mae_mm']['img_s'] for p in ctx.earlier.get('mae_vit-b', []) if p.get('rates')),
                     None)
    config = ctx.config(PRETRAIN_B, DEMO_PRETRAIN)
    decode_config = ctx.config(PRETRAIN_B_GPU_DECODE, None, TOY_PRETRAIN + TOY_GPU_DECODE_PIPELINE)
    if synthetic is None or ctx.smoke:  # row 3 did not run (or is not comparable): measure it here
        found = attempt('synthetic', lambda: benchmark(ctx, 'synthetic', config, 512, '--compile'))
        yield found
        synthetic = found.get('rates', {}).get('mae_mm', {}).get('img_s')
    workers = '0' if ctx.smoke else str(os.cpu_count())

    def fed(name, cfg, *flags):
        got = benchmark(ctx, name, cfg, 512, '--compile', '--data', 'jpeg', *flags)
        rate = got['rates']['mae_mm']['img_s']
        if synthetic:
            got['of_synthetic'] = rate / synthetic
            got['summary'] += f', {100 * rate / synthetic:.0f}% of the synthetic {synthetic:,.1f} img/s'
        return got

    yield attempt(f'cpu decode, {workers} workers', lambda: fed(
        f'cpu decode, {workers} workers', config, '--workers', workers))
    decode_workers = '0' if ctx.smoke else '4'
    yield attempt(f'gpu decode, {decode_workers} workers', lambda: fed(
        f'gpu decode, {decode_workers} workers', decode_config, '--workers', decode_workers))


def row_eager(ctx):
    for name, config, smoke, batch, flags in [
            ('vit-b/16 b512 eager', PRETRAIN_B, None, 512, ('--vs-mmpretrain',)),
            ('vit-l/16 b256 eager', PRETRAIN_L, None, 256, ('--vs-mmpretrain',)),
            ('vit-b/16 fine-tune b256 eager', FINETUNE_B, DEMO_TASKS[1][1], 256, ('--fused', '--vs-mmpretrain'))]:
        cfg = ctx.config(config, smoke, TOY_PRETRAIN if smoke is None else None)
        yield attempt(name, lambda: benchmark(ctx, name, cfg, batch, *flags))


@dataclass
class Row:
    name: str
    title: str
    cap: float  # seconds on the GPU
    smoke_cap: float  # seconds under --smoke on a 2-core CPU
    run: Callable


ROWS = [
    Row('cuda_ops', "mmcv's CUDA ops: RoIAlign and NMS", 45, 30, row_cuda_ops),
    Row('demo_tasks', 'each demo task, a few iterations, mixed precision', 120, 90, row_demo_tasks),
    Row('mae_vit-b', 'MAE ViT-B/16 b512 compiled vs mmpretrain', 150, 40, row_mae_b),
    Row('mae_vit-l', 'MAE ViT-L/16 b256 compiled vs mmpretrain', 150, 40, row_mae_l),
    Row('finetune_vit-b', 'ViT-B/16 fine-tune b256 compiled vs mmpretrain', 120, 40, row_finetune_b),
    Row('mask-rcnn_vit-b', 'Mask R-CNN ViT-B 1024 fp16', 90, 40, row_mask_rcnn_b),
    Row('upernet_vit-b', 'UperNet ViT-B 512 bf16 vs mmseg', 90, 40, row_upernet_b),
    Row('jpeg_pipeline', 'JPEG pipeline, CPU and GPU decode, vs synthetic', 150, 40, row_jpeg),
    Row('eager', 'eager ViT-B, ViT-L, fine-tune vs mmpretrain', 150, 40, row_eager),
]
BY_NAME = {row.name: row for row in ROWS}


def environment(device: str) -> dict:
    """Device, versions and date, as the table's header shows them."""
    from importlib import metadata

    import torch
    env = dict(date=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
               python=platform.python_version(), host_cpus=os.cpu_count(), device=device)
    if device.startswith('cuda'):
        props = torch.cuda.get_device_properties(0)
        env['device'] = f'{props.name}, {props.total_memory / 2 ** 30:.0f} GiB, sm_{props.major}{props.minor}'
    else:
        env['device'] = f'CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)'
    env['torch_cuda'] = torch.version.cuda
    for package in ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmdet', 'mmsegmentation', 'mmpretrain', 'mae_mm',
                    'timm', 'transformers'):
        try:
            env[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            env[package] = None
    return env


def worker(device: str, smoke: bool, out: str) -> None:
    """Runs the rows the parent sends (one JSON request a line on stdin) and answers on stdout."""
    from mae_mm.runtime import setup_runtime
    setup_runtime()
    channel = sys.stdout
    sys.stdout = sys.stderr  # everything the rows print goes to the log; messages keep the pipe

    def send(kind, payload):
        channel.write(MARK + json.dumps(dict(kind=kind, **payload), default=str) + '\n')
        channel.flush()

    import torch
    if device.startswith('cuda') and not torch.cuda.is_available():
        send('env', dict(env=environment('cpu'), error='torch sees no GPU (torch.cuda.is_available() is False): '
                                                        'nothing to check; --smoke runs the rows on the CPU'))
        return
    send('env', dict(env=environment(device)))
    for line in sys.stdin:
        request = json.loads(line)
        ctx = Context(device=device, smoke=smoke, out=out, earlier=request.get('earlier', {}))
        row = BY_NAME[request['row']]
        print(f'== row {row.name}: {row.title}', flush=True)
        try:
            for found in row.run(ctx):
                print(f'-- {found["summary"]}', flush=True)
                send('part', dict(part=found))
            send('done', {})
        except Exception as err:  # a row's own setup failed (its parts catch their own errors)
            send('done', dict(error=f'{type(err).__name__}: {err}'))
        sys.stderr.flush()


# ----------------------------------------------------------------------------------------------
# the parent: budget, caps, the worker's life, the report

class Worker:
    """The worker process, in its own process group (DataLoader workers go with it when killed)."""

    def __init__(self, args, log):
        cmd = [sys.executable, osp.abspath(__file__), '--worker', '--device', args.device, '--out', args.out]
        if args.smoke:
            cmd.append('--smoke')
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                     env=env, start_new_session=True)
        self.log = log
        self.buffer = b''
        self.env = None

    def send(self, request: dict) -> None:
        self.proc.stdin.write((json.dumps(request) + '\n').encode())
        self.proc.stdin.flush()

    def message(self, deadline: float) -> Optional[dict]:
        """The worker's next message; None when the deadline passes or the worker exits."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while True:
                while b'\n' in self.buffer:
                    line, self.buffer = self.buffer.split(b'\n', 1)
                    text = line.decode(errors='replace')
                    if text.startswith(MARK):
                        return json.loads(text[len(MARK):])
                    self.log.write(text + '\n')
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    return None
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.buffer += chunk

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


def stopped(signum, frame):
    raise KeyboardInterrupt(f'signal {signum}')


def fmt_seconds(value) -> str:
    return '-' if value is None else f'{value:.0f}'


def write_report(report: dict, out: str) -> None:
    """gpu_check.json and gpu_check.md, each replaced whole (a reader never sees half a file)."""
    def replace(name, text):
        path = osp.join(out, name)
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(path + '.tmp', path)

    replace('gpu_check.json', json.dumps(report, indent=2, default=str) + '\n')
    env = report.get('env') or {}
    versions = ', '.join(f'{k} {env[k]}' for k in ('python', 'torch', 'torch_cuda', 'torchvision', 'mmengine', 'mmcv',
                                                  'mmdet', 'mmsegmentation', 'mmpretrain', 'timm', 'transformers')
                         if env.get(k))
    lines = [f'`tools/gpu_check.py{" --smoke" if report["smoke"] else ""} --budget {report["budget_s"]:g}`, '
             f'{report["started"]}' + ('' if report['finished'] else ' (still running or cut off)'),
             '', f'Device: {env.get("device", "not known yet")}; host CPUs: {env.get("host_cpus", "?")}.',
             f'Versions: {versions or "not known yet"}.', '']
    if report['smoke']:
        lines += ['--smoke: toy sizes on the CPU (demo ViT, batch 2, one timed step, no compile, fp32); the row '
                  'titles name what the rows run on a GPU.', '']
    lines += [
             '| # | row | status | result | s (cap) |', '| --- | --- | --- | --- | --- |']
    for i, row in enumerate(report['rows'], 1):
        status = row['status'] + (f': {row["reason"]}' if row.get('reason') else '')
        result = '; '.join(p['summary'].replace('|', '/') for p in row['parts']) or '-'
        lines.append(f'| {i} | {row["title"]} | {status} | {result} | {fmt_seconds(row["seconds"])} '
                     f'({fmt_seconds(row["cap_s"])}) |')
    replace('gpu_check.md', '\n'.join(lines) + '\n')


def run_row(runner: Worker, entry: dict, deadline: float, report: dict, out: str) -> Optional[dict]:
    """Has the worker run ``entry``'s row, adding its parts to ``entry`` (and the report on disk) as they
    come; returns its closing message, or None when the deadline passed or the worker ended first."""
    if runner.proc.poll() is not None or report['env'] is None:
        return None
    earlier = {e['name']: e['parts'] for e in report['rows'] if e['parts']}
    runner.send(dict(row=entry['name'], earlier=earlier))
    while True:
        msg = runner.message(deadline)
        if msg is None or msg['kind'] == 'done':
            return msg
        if msg['kind'] == 'part':
            entry['parts'].append(msg['part'])
            print(f'[gpu_check]   {msg["part"]["summary"]}', flush=True)
            write_report(report, out)


def parse_args(argv_=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--budget', type=float, default=300.0,
                        help='total seconds for all rows (default 300); a row gets its cap or what is left')
    parser.add_argument('--out', default=osp.join(ROOT, 'work_dirs', 'gpu_check'), help='where the report goes')
    parser.add_argument('--rows', help='comma-separated row numbers or names to run (default: all); the others are '
                                       'reported as not run')
    parser.add_argument('--smoke', action='store_true', help='the same rows at toy sizes on the CPU (for the tests)')
    parser.add_argument('--device', help=argparse.SUPPRESS)
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv_)
    args.out = osp.abspath(args.out)
    if args.device is None:
        args.device = 'cpu' if args.smoke else 'cuda'
    return args


def chosen_rows(spec: Optional[str]) -> List[str]:
    if not spec:
        return [row.name for row in ROWS]
    names = []
    for item in spec.split(','):
        item = item.strip()
        name = ROWS[int(item) - 1].name if item.isdigit() and 1 <= int(item) <= len(ROWS) else item
        if name not in BY_NAME:
            raise SystemExit(f'--rows: unknown row {item!r} (rows: 1-{len(ROWS)} or '
                             f'{", ".join(BY_NAME)})')
        names.append(name)
    return names


def main(argv_=None) -> int:
    args = parse_args(argv_)
    if args.worker:
        worker(args.device, args.smoke, args.out)
        return 0
    wanted = chosen_rows(args.rows)
    os.makedirs(args.out, exist_ok=True)
    start = time.monotonic()
    deadline = start + args.budget
    report = dict(smoke=args.smoke, budget_s=args.budget, finished=False, env=None,
                  started=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
                  rows=[dict(name=r.name, title=r.title, status='not finished', reason='not started',
                             seconds=None, cap_s=r.smoke_cap if args.smoke else r.cap, parts=[]) for r in ROWS])
    write_report(report, args.out)
    log = open(osp.join(args.out, 'gpu_check.log'), 'a', buffering=1)
    log.write(f'==== gpu_check {" ".join(sys.argv[1:])} at {report["started"]}\n')
    runner: Optional[Worker] = None
    signal.signal(signal.SIGTERM, stopped)
    try:
        for entry in report['rows']:
            row = BY_NAME[entry['name']]
            if row.name not in wanted:
                entry['reason'] = 'not chosen by --rows'
                continue
            left = deadline - time.monotonic()
            if left < 1:
                entry['reason'] = f'the budget of {args.budget:g} s was spent before it could start'
                continue
            cap = min(entry['cap_s'], left)
            row_start = time.monotonic()
            row_deadline = row_start + cap
            entry.update(status='not finished', reason='was running when this report was written')
            print(f'[gpu_check] row {row.name} (cap {cap:.0f} s)', flush=True)
            if runner is None:
                runner = Worker(args, log)
                hello = runner.message(row_deadline)
                if hello is not None and hello['kind'] == 'env':
                    report['env'] = hello['env']
                    if hello.get('error'):
                        for rest in report['rows']:
                            if rest['reason'] in ('not started', 'was running when this report was written'):
                                rest['reason'] = hello['error'] if rest['name'] in wanted else \
                                    'not chosen by --rows'
                        print(f'[gpu_check] {hello["error"]}', flush=True)
                        report['error'] = hello['error']
                        break
            outcome = run_row(runner, entry, row_deadline, report, args.out)
            entry['seconds'] = round(time.monotonic() - row_start, 1)
            if outcome is None:  # cut at the cap, or the worker died
                alive = runner.proc.poll() is None
                runner.kill()
                code = runner.proc.returncode
                runner = None
                entry['status'] = 'not finished'
                entry['reason'] = (f'cut at its cap of {cap:.0f} s' if alive else
                                   f'the worker process died (exit {code}; see gpu_check.log)')
            else:
                error = outcome.get('error')
                failed = [p for p in entry['parts'] if not p['ok']]
                entry['status'] = 'error' if error or any(p.get('error') for p in failed) else \
                    'failed' if failed or not entry['parts'] else 'ok'
                entry['reason'] = error or (f'{len(failed)} of {len(entry["parts"])} parts failed' if failed else None)
                if entry['status'] != 'ok':  # a fresh process for the next row (a CUDA error poisons the context)
                    runner.kill()
                    runner = None
            print(f'[gpu_check] row {row.name}: {entry["status"]}'
                  + (f' ({entry["reason"]})' if entry['reason'] else '') + f', {entry["seconds"]:.0f} s', flush=True)
            write_report(report, args.out)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the row that ran is reported as stopped
        for entry in report['rows']:
            if entry['reason'] == 'was running when this report was written':
                entry['reason'] = 'the run was stopped (SIGTERM or Ctrl-C) while it ran'
        if runner is not None:
            runner.kill()
            runner = None
        raise
    finally:
        if runner is not None:
            runner.proc.stdin.close()
            try:
                runner.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                runner.kill()
        report['finished'] = True
        report['seconds'] = round(time.monotonic() - start, 1)
        write_report(report, args.out)
        log.close()
    with open(osp.join(args.out, 'gpu_check.md')) as f:
        print(f.read())
    return 1 if report.get('error') or any(e['status'] in ('failed', 'error') for e in report['rows']) else 0


if __name__ == '__main__':
    sys.exit(main())
