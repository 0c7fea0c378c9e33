"""Sharded data parallel (torch FSDP2, ``fully_shard``) as an mmengine model wrapper.

``model_wrapper_cfg = dict(type='mae_mm.ShardedDataParallel')`` in any config: mmengine's Runner
builds it in place of ``MMDistributedDataParallel``; the configs, hooks, optimizer wrappers and
checkpoints are the same as a DDP run's.

What changes is where the state lives. DDP keeps the whole model on every rank: fp32 weights,
gradients and AdamW's two moments, 16 bytes per parameter. Here each ViT block (encoder and
decoder) is one FSDP2 unit, and the root covers the rest (patch embedding, position embeddings,
norms, mask token, heads): each rank keeps 1/N of every parameter, gradient and moment; a
unit's full weights exist only while it runs (gathered before its forward and its backward,
freed after), and its gradients are reduce-scattered, averaged over the ranks as DDP's are.

How it fits the rest:

- **Gradient accumulation**: mmengine's ``optim_context`` calls :meth:`no_sync` for the
  accumulated micro-batches; FSDP2 has no ``no_sync``, so it switches the gradient sync off
  (``set_requires_gradient_sync``) for them, and the last micro-batch reduces the sum.
- **Gradient clipping, layer decay, non-finite losses, save on signal**: the optimizer wrapper
  sees ordinary (DTensor) parameters under their usual names; ``clip_grad_norm_`` computes the
  norm over all shards; the step agreement is the same all-reduce.
- **Activation checkpointing** (``with_checkpoint=True`` of the encoder, decoder and backbones):
  recomputation runs inside each unit's forward, so it composes with the unit's gather.
- **Mixed precision**: the configs keep the bf16 autocast of the optimizer wrapper (parameters,
  gradients and their reduction in fp32; matmuls in bf16). ``mixed_precision='bf16'`` instead
  gives FSDP2's policy: parameters gathered in bf16 (half the gather traffic and the memory of
  gathered units), gradients reduced in fp32. Both keep fp32 master weights and moments.
- **Checkpoints**: :mod:`.full_state`: the same file a DDP run writes (rank 0, full tensors).
"""
from contextlib import contextmanager
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mae_mm.registry import MODEL_WRAPPERS
from .full_state import full_state_on_rank0, model_load_state_dict_pre_hook

MIXED_PRECISION = (None, 'bf16')
DEFAULT_UNITS = ('Block', )


def shard_units(module: nn.Module, unit_classes: Sequence[str]):
    """The sub-modules of ``module`` whose class name is in ``unit_classes``, outermost first."""
    return [m for m in module.modules() if type(m).__name__ in unit_classes and m is not module]


@MODEL_WRAPPERS.register_module()
class ShardedDataParallel(nn.Module):
    """Shards ``module`` over the default process group with FSDP2.

    Args:
        module (nn.Module): The model (a ``BaseModel``), already on its device.
        unit_classes (Sequence[str]): Class names of the sub-modules that become one FSDP2 unit
            each (default: the ViT ``Block`` of encoder, decoder and backbones).
        reshard_after_forward (bool): Free each unit's gathered weights after its forward (and
            gather them again for backward): the least memory. ``False`` keeps them until the
            backward, trading memory for one gather less per unit (ZeRO-2-like).
        mixed_precision (str, optional): ``None`` (fp32 parameters, what the configs use with
            the optimizer wrapper's autocast) or ``'bf16'``: FSDP2's policy of bf16 gathered
            parameters and fp32 gradient reduction.
        compile_units (bool): ``torch.compile`` each unit (``nn.Module.compile``, before it is
            sharded), FSDP2's way to compile: each block one graph between its gathers.
            mmengine's ``compile=True`` compiles the whole ``train_step`` instead, optimizer step
            included, which torch 2.14's dynamo refuses on the CPU under DDP and sharding alike.
    """

    def __init__(self, module: nn.Module, unit_classes: Sequence[str] = DEFAULT_UNITS,
                 reshard_after_forward: bool = True, mixed_precision: Optional[str] = None,
                 compile_units: bool = False):
        super().__init__()
        import torch.distributed as dist
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError('ShardedDataParallel needs a distributed launch (tools/dist_train.sh, '
                               'tools/slurm_train.sh or --launcher pytorch): no process group is initialised')
        if mixed_precision not in MIXED_PRECISION:
            raise ValueError(f'model_wrapper_cfg.mixed_precision={mixed_precision!r}: choose one of {MIXED_PRECISION}')
        units = shard_units(module, tuple(unit_classes))
        if not units:
            raise ValueError(f'model_wrapper_cfg.unit_classes={tuple(unit_classes)}: no sub-module of '
                             f'{type(module).__name__} has one of these classes, so nothing would be sharded '
                             'block by block')
        # The weights are initialised whole (init_cfg, e.g. a pretrained checkpoint) and made the
        # same on every rank, as DDP's constructor does, before they are sharded: initialisers and
        # loaders see ordinary tensors. The runner's own init-and-broadcast after the wrapping
        # would overwrite every rank's shards with rank 0's; ShardedStateHook skips it.
        init_whole_and_broadcast(module)
        policy = MixedPrecisionPolicy()
        if mixed_precision == 'bf16':
            policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
        for unit in units:
            if compile_units:
                unit.compile()
            fully_shard(unit, reshard_after_forward=reshard_after_forward, mp_policy=policy)
        fully_shard(module, reshard_after_forward=reshard_after_forward, mp_policy=policy)
        # FSDP2 makes whichever unit runs first the root, lazily; a hook that calls the encoder's
        # blocks before any forward of the model (the k-NN probe before training) would make a
        # block the root. Settled now, on the model (torch has no public call for it).
        module._get_fsdp_state()._lazy_init()
        for sub in module.modules():
            if any(True for _ in sub.parameters(recurse=False)):
                sub.register_load_state_dict_pre_hook(model_load_state_dict_pre_hook)
        self.module = module
        self.num_units = len(units)

    @contextmanager
    def no_sync(self):
        """No gradient reduction inside (accumulated micro-batches): FSDP2's sync switch."""
        self.module.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            self.module.set_requires_gradient_sync(True)

    def train_step(self, data: Union[dict, tuple, list], optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """Preprocess, forward in ``loss`` mode, backward and step, as ``MMDistributedDataParallel``."""
        with optim_wrapper.optim_context(self):
            data = self.module.data_preprocessor(data, training=True)
            losses = self._run_forward(data, mode='loss')
        parsed_loss, log_vars = self.module.parse_losses(losses)
        optim_wrapper.update_params(parsed_loss)
        return log_vars

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """The model's ``val_step`` (its forward gathers each unit in turn)."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """The model's ``test_step``."""
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _run_forward(self, data: Union[dict, tuple, list], mode: str):
        if isinstance(data, dict):
            return self(**data, mode=mode)
        if isinstance(data, (list, tuple)):
            return self(*data, mode=mode)
        raise TypeError(f'Output of `data_preprocessor` should be list, tuple or dict, but got {type(data)}')


def init_whole_and_broadcast(module: nn.Module) -> None:
    """``module.init_weights()`` (where it has one), then every parameter and buffer broadcast
    from rank 0."""
    from mmengine.dist import broadcast

    if hasattr(module, 'init_weights'):
        module.init_weights()
    for tensor in module.state_dict().values():
        broadcast(tensor)


def is_sharded(model) -> bool:
    """Whether ``model`` (a runner's model) is wrapped by :class:`ShardedDataParallel`."""
    return isinstance(model, ShardedDataParallel)


@contextmanager
def root_unsharded(module: nn.Module):
    """Inside, the parameters outside the blocks of a sharded ``module`` (patch embedding, norms,
    tokens, heads) are whole, for code that calls its parts instead of its ``forward`` (the k-NN
    probe, the reconstruction panel); each block still gathers itself when it is called. Every
    rank must enter it and run the same calls. A no-op for a model that is not sharded."""
    from torch.distributed.fsdp import FSDPModule

    if not isinstance(module, FSDPModule):
        yield
        return
    module.unshard()
    try:
        yield
    finally:
        module.reshard()


@contextmanager
def full_state_for_saving(runner):
    """Around ``runner.save_checkpoint`` on every rank: a sharded model's state and its
    optimizers' are gathered, and rank 0 saves them whole (:func:`.full_state.full_state_on_rank0`).
    A no-op for a model that is not sharded."""
    if not is_sharded(runner.model):
        yield
        return
    from mae_mm.engine.optim_wrapper_members import optim_wrappers

    optimizers = [w.optimizer for w in optim_wrappers(runner.optim_wrapper) if hasattr(w, 'optimizer')]
    with full_state_on_rank0(runner.model.module, optimizers):
        yield
