"""Distributed runs on machines without CUDA (gloo), which mmengine 0.10 cannot start by itself.

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` before it creates the process group,
and its default DDP wrapper passes ``device_ids=[LOCAL_RANK]``; both fail without a GPU. With no
CUDA device and a ``pytorch`` (torchrun) or ``slurm`` (srun) launch we create the gloo process
group first (mmengine then leaves it alone) and wrap the model with ``device_ids=None``, which
is what DDP wants for a CPU module. torch's SyncBatchNorm has no CPU implementation (DDP refuses
it), so ``SyncBN`` norms (UperNet's heads) become ``BN``, each process normalising by its own
batch's statistics, and the log says so. Under srun the rank, world size and master address come
from Slurm's variables as mmengine reads them (``SLURM_PROCID``, ``SLURM_NTASKS``, the first
host of ``SLURM_NODELIST`` through ``scontrol show hostnames``; ``MASTER_PORT`` or 29500). The
process group's timeout is ``env_cfg.dist_cfg.timeout`` in seconds, as on GPUs (torch's default,
30 minutes, where the config has none).
"""
import datetime
import logging
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> None:
    """Prepares ``cfg`` (and the process group) for a CPU-only distributed launch; no-op otherwise."""
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher == 'slurm':
        export_slurm_process_env()
    elif launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} on a machine without CUDA: CPU distributed runs are '
                           'supported with --launcher pytorch (tools/dist_train.sh) and --launcher slurm '
                           '(tools/slurm_train.sh)')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        # env_cfg.dist_cfg.timeout (seconds), as mmengine's init_dist passes it on GPUs: how long a
        # collective waits for a peer that stopped answering (configs/_base_/default_runtime.py)
        timeout = dist_cfg.get('timeout')
        torch_dist.init_process_group(backend=dist_cfg['backend'], rank=int(os.environ['RANK']),
                                      world_size=int(os.environ['WORLD_SIZE']),
                                      timeout=None if timeout is None else datetime.timedelta(seconds=timeout))
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                                     find_unused_parameters=cfg.get('find_unused_parameters', False))
    replaced = sync_bn_to_bn(cfg.model)
    if replaced:
        print_log(f'no CUDA device: SyncBN has no CPU implementation; {replaced} SyncBN norm config(s) run as BN, '
                  'with per-process batch statistics', logger='current', level=logging.WARNING)
    print_log(f'no CUDA device: distributed backend nccl -> {dist_cfg["backend"]}, model wrapped with '
              'device_ids=None', logger='current')


def sync_bn_to_bn(node) -> int:
    """Turns every ``type='SyncBN'`` in the (nested) config ``node`` into ``'BN'``; returns how many."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += sync_bn_to_bn(value)
    return count


def export_slurm_process_env() -> None:
    """Sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT from an srun task's variables."""
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST') if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher slurm outside an srun task: {", ".join(missing)} not set')
    nodes = os.environ['SLURM_NODELIST']
    hosts = subprocess.run(['scontrol', 'show', 'hostnames', nodes], capture_output=True, text=True, check=True)
    os.environ.setdefault('MASTER_ADDR', hosts.stdout.split()[0])
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
