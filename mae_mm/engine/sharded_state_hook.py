"""Lets a sharded run load its optimizer state from a full (DDP-format) checkpoint (:mod:`mae_mm.parallel.full_state`).

The model's load hooks are installed by :class:`mae_mm.parallel.ShardedDataParallel`, and
saving goes through :func:`mae_mm.parallel.full_state_for_saving`; the optimizer is built after
the model is wrapped, so its load hook is installed here, in ``before_run``: after the runner
builds the optimizer, before it resumes. ``prepare_run`` (``tools/train.py``)
adds this hook to any config whose ``model_wrapper_cfg`` is ``ShardedDataParallel``; under DDP
or one process it does nothing.

It also skips the runner's initialise-and-broadcast (the wrapper did both before sharding) and
refuses a save that would write rank 0's shards only (mmengine's own ``CheckpointHook``, which
does not gather them).

A resumed sharded run reads the checkpoint on the CPU, not on each rank's GPU: every rank then
copies only its own chunk to its device (a ViT-6.5B checkpoint with its AdamW state is 78 GB,
more than a GPU holds).
"""
import functools

from mmengine.hooks import Hook

from mae_mm.parallel import is_sharded
from mae_mm.registry import HOOKS
from .optim_wrapper_members import optim_wrappers


@HOOKS.register_module()
class ShardedStateHook(Hook):
    """Installs a sharded run's optimizer load hook, resumes it from the CPU, skips the runner's
    init broadcast and refuses a save of shards."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        if not is_sharded(runner.model):
            return
        from mae_mm.parallel.full_state import install_optimizer_load_hook

        for wrapper in optim_wrappers(runner.optim_wrapper):
            install_optimizer_load_hook(wrapper.optimizer)
        # Runner.load_or_resume calls self.resume(path); on a GPU its default map_location puts
        # the whole checkpoint on every rank's device
        runner.resume = functools.partial(runner.resume, map_location='cpu')
        # Runner.train calls init_weights and broadcasts every state-dict entry from rank 0 next:
        # the wrapper did the init and the broadcast before sharding, and a broadcast of the
        # shards would give every rank rank 0's
        runner._init_model_weights = skipped_init

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        from torch.distributed.tensor import DTensor

        if is_sharded(runner.model) and any(isinstance(v, DTensor) for v in checkpoint['state_dict'].values()):
            raise RuntimeError('a checkpoint of the sharded model is being saved without gathering it (only '
                               'rank 0\'s shards would be written): save through mae_mm.WriteFirstCheckpointHook or '
                               'mae_mm.engine.save_checkpoint_or_explain, not mmengine\'s CheckpointHook')


def skipped_init() -> None:
    """In place of ``Runner._init_model_weights`` for a sharded model (see ``before_run``)."""
