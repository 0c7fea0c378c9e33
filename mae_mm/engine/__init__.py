from .checkpoint_safety import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .optim_wrapper import AmpIfAvailableOptimWrapper

__all__ = ['allow_mmengine_checkpoints', 'mmengine_checkpoint_globals', 'AmpIfAvailableOptimWrapper']
