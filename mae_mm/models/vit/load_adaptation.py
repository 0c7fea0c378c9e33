"""What a model adapts when it loads a checkpoint, as its modules declare it."""
from typing import Set

import torch.nn as nn


def adapted_state_keys(model: nn.Module, include_root: bool = True) -> Set[str]:
    """The state-dict keys of ``model`` whose checkpoint tensors may have another shape.

    Each module lists in ``adapted_at_load`` the names (relative to itself) that its
    ``_load_from_state_dict`` resamples to its own shape: the ViT its position table and, where it
    is asked to, its patch kernel; BEiT's bias its table. ``include_root=False`` leaves out what
    ``model`` itself declares (for ``model``'s own loader, which has adapted those already).
    """
    return {f'{name}.{key}' if name else key
            for name, module in model.named_modules() if include_root or name
            for key in getattr(module, 'adapted_at_load', ())}
