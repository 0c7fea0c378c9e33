"""Full (unsharded) state for a sharded model: the checkpoint format of a DDP run, written by rank 0.

A model sharded by FSDP2 holds each parameter as a ``DTensor`` whose rank-local piece is one
``Shard(0)`` chunk of the full tensor (``torch.chunk`` over the ranks, the last chunks smaller or
empty); AdamW's moments are ``DTensor`` of the same layout. mmengine saves whatever
``model.state_dict()`` and ``optimizer.state_dict()`` return, on rank 0 only. What follows makes
those two calls return the state a DDP run would save, so that one file format serves DDP and
sharded runs, any number of ranks, every transfer config and every converter:

- **Saving** (:func:`full_state_on_rank0`, which :func:`mae_mm.engine.save_checkpoint_or_explain`
  enters on every rank around every save, since mmengine's ``save_checkpoint`` runs on rank 0
  only): every rank gathers each ``DTensor`` of the two state dicts in turn (a collective) and
  rank 0 keeps a CPU copy, which its ``state_dict`` calls then return. One full tensor at a time
  is on the GPU, so saving needs the memory of the largest parameter, not of the model; rank 0's
  host holds the whole state (12 bytes per parameter under AdamW). Elsewhere ``state_dict``
  returns the ``DTensor`` shards, as torch does (the model's keys and full shapes, no
  communication).
- **Loading** (``load_state_dict``): a full tensor meant for a ``DTensor`` is cut to this rank's
  chunk *before* it is copied to the device, so a rank never holds more than its own part on the
  GPU. No communication: every rank reads the same file.
"""
from contextlib import contextmanager
from typing import Dict, Iterable, List, Sequence

import torch
from torch.distributed.tensor import DTensor, Shard


def gathered(value: DTensor, keep: bool) -> torch.Tensor:
    """The full tensor of ``value`` (a collective), on the CPU where ``keep``, else a ``meta``
    tensor of the same shape and dtype."""
    full = value.full_tensor()
    if keep:
        return full.cpu()
    return torch.empty(full.shape, dtype=full.dtype, device='meta')


def local_chunk(full: torch.Tensor, like: DTensor) -> DTensor:
    """``full`` (any device; shape of ``like``) as a ``DTensor`` laid out as ``like``: this rank's
    ``Shard(0)`` chunk, moved to ``like``'s device. Raises ValueError on a shape mismatch or a
    layout other than one ``Shard(0)`` over a 1-D mesh (the one :class:`ShardedDataParallel`
    makes)."""
    if tuple(full.shape) != tuple(like.shape):
        raise ValueError(f'a tensor of shape {tuple(full.shape)} cannot fill a sharded one of shape '
                         f'{tuple(like.shape)}')
    mesh, placements = like.device_mesh, like.placements
    if mesh.ndim != 1 or tuple(placements) != (Shard(0),):
        raise ValueError(f'only one Shard(0) over a 1-D mesh is supported, not {placements} over {mesh}')
    rank, world = mesh.get_local_rank(), mesh.size()
    chunks = torch.chunk(full, world, dim=0) if full.dim() else (full, )
    piece = chunks[rank] if rank < len(chunks) else full.new_empty((0, ) + tuple(full.shape[1:]))
    local = piece.to(device=like.to_local().device, dtype=like.dtype).contiguous()
    return DTensor.from_local(local, mesh, placements, run_check=False, shape=like.shape, stride=like.stride())


def gather_tensors(state: Dict, keep: bool) -> None:
    """Replaces, in place, every ``DTensor`` value of ``state`` by its full tensor
    (:func:`gathered`)."""
    for key, value in list(state.items()):
        if isinstance(value, DTensor):
            state[key] = gathered(value, keep)


def model_load_state_dict_pre_hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
                                   unexpected_keys, error_msgs) -> None:
    """``nn.Module.register_load_state_dict_pre_hook`` hook of every module that owns sharded
    parameters: its own full tensors become local chunks before they are copied."""
    for name, param in module.named_parameters(recurse=False):
        key = prefix + name
        value = state_dict.get(key)
        if isinstance(param, DTensor) and isinstance(value, torch.Tensor) and not isinstance(value, DTensor):
            try:
                state_dict[key] = local_chunk(value, param)
            except ValueError as err:  # the size mismatch is reported by torch with the key's name
                error_msgs.append(f'{key}: {err}')
                state_dict.pop(key)


def optimizer_params(optimizer: torch.optim.Optimizer) -> List[torch.Tensor]:
    """The optimizer's parameters in the order of its state dict's integer ids."""
    return [p for group in optimizer.param_groups for p in group['params']]


def optimizer_load_state_dict_pre_hook(optimizer, state_dict):
    """``Optimizer.register_load_state_dict_pre_hook`` hook: the full moments of a checkpoint
    become this rank's chunks before torch copies them to the parameters' device."""
    params = optimizer_params(optimizer)
    saved_ids: Iterable[int] = [i for group in state_dict['param_groups'] for i in group['params']]
    by_id = dict(zip(saved_ids, params))  # torch pairs them the same way, in order
    for param_id, per_param in state_dict['state'].items():
        param = by_id.get(param_id)
        if not isinstance(param, DTensor):
            continue
        for key, value in list(per_param.items()):
            if isinstance(value, torch.Tensor) and not isinstance(value, DTensor) and value.shape == param.shape:
                per_param[key] = local_chunk(value, param)
    return state_dict


def install_optimizer_load_hook(optimizer: torch.optim.Optimizer) -> None:
    """Makes ``optimizer`` take full moments from a checkpoint (once per optimizer)."""
    if getattr(optimizer, '_mae_mm_loads_full_state', False):
        return
    optimizer.register_load_state_dict_pre_hook(optimizer_load_state_dict_pre_hook)
    optimizer._mae_mm_loads_full_state = True


@contextmanager
def full_state_on_rank0(module: torch.nn.Module, optimizers: Sequence[torch.optim.Optimizer]):
    """Gathers the full state of a sharded ``module`` and of its ``optimizers`` (every rank must
    enter, in step); inside, rank 0's ``module.state_dict()`` and ``optimizer.state_dict()``
    return it, on the CPU."""
    from mmengine.dist import is_main_process

    keep = is_main_process()
    model_state = module.state_dict()
    gather_tensors(model_state, keep)
    optimizer_states = []
    for optimizer in optimizers:
        state = optimizer.state_dict()
        # torch's state dict holds the optimizer's own per-parameter dicts: gathered into copies
        state['state'] = {param_id: dict(per_param) for param_id, per_param in state['state'].items()}
        for per_param in state['state'].values():
            gather_tensors(per_param, keep)
        optimizer_states.append(state)
    if not keep:
        yield
        return

    def full_model_state(_module, state_dict, prefix, local_metadata):
        if prefix == '':
            state_dict.clear()
            state_dict.update(model_state)

    handles = [module.register_state_dict_post_hook(full_model_state)]
    for optimizer, state in zip(optimizers, optimizer_states):
        handles.append(optimizer.register_state_dict_post_hook(lambda _opt, _sd, full=state: full))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
