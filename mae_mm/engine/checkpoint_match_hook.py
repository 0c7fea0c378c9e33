"""A checkpoint loaded by the Runner must fit the model: else stop before training, saying why.

mmengine loads ``load_from`` and ``--resume`` checkpoints non-strictly: a tensor whose shape
differs from the model's is only reported in a warning and the parameter keeps its random
initialisation, so a wrong-size or wrong-patch checkpoint can train for days unnoticed. This
hook compares the checkpoint with the model before mmengine copies anything.
"""
from typing import List, Set

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mae_mm.models.vit import adapted_state_keys
from mae_mm.registry import HOOKS


def checkpoint_mismatches(state_dict: dict, model_state: dict, resume: bool, adapted: Set[str] = frozenset()
                          ) -> List[str]:
    """One line per key whose shape differs, and (when resuming) per key missing from the checkpoint.

    ``adapted``: keys the model resamples to its own shape when it loads them (as its modules
    declare, :func:`~mae_mm.models.vit.adapted_state_keys`), so another shape there is expected.
    """
    state_dict = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state_dict.items()}
    lines = [f'{key}: checkpoint {tuple(state_dict[key].shape)} vs model {tuple(tensor.shape)}'
             for key, tensor in model_state.items()
             if key in state_dict and hasattr(state_dict[key], 'shape') and key not in adapted
             and tuple(state_dict[key].shape) != tuple(tensor.shape)]
    if resume:
        lines += [f'{key}: missing from the checkpoint' for key in model_state if key not in state_dict]
    return lines


@HOOKS.register_module()
class CheckpointMatchHook(Hook):
    """Raises ``ValueError`` naming the file, each mismatched key and both shapes when a checkpoint
    the Runner loads (``load_from`` or a resume) does not fit the model; when resuming, keys the
    checkpoint lacks are errors too. A shape the model adapts at load (its position tables, a patch
    kernel where it resamples one, BEiT's bias tables) is no mismatch: the modules declare those."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state_dict = checkpoint.get('state_dict', checkpoint)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        resume = bool(getattr(runner, '_resume', False))
        lines = checkpoint_mismatches(state_dict, model.state_dict(), resume, adapted_state_keys(model))
        if lines:
            source = getattr(runner, '_load_from', None) or 'the checkpoint'
            shown = lines[:20] + ([f'... and {len(lines) - 20} more'] if len(lines) > 20 else [])
            raise ValueError(f'{source} does not fit the model of this config '
                             f'({"resume" if resume else "load_from"}):\n  ' + '\n  '.join(shown))
