from . import atomic_backend  # noqa: F401  registers atomic local writes with mmengine
from .checkpoint_match_hook import CheckpointMatchHook
from .checkpoint_safety import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .layer_decay import ViTLayerDecayOptimWrapperConstructor, infer_num_layers, vit_layer_id
from .nonfinite_loss_hook import NonFiniteLossHook
from .optim_wrapper import AmpIfAvailableOptimWrapper
from .random_state_hook import RandomStateHook
from .skipped_images_hook import SkippedImagesHook

__all__ = ['allow_mmengine_checkpoints', 'mmengine_checkpoint_globals', 'ViTLayerDecayOptimWrapperConstructor',
           'infer_num_layers', 'vit_layer_id', 'AmpIfAvailableOptimWrapper', 'NonFiniteLossHook', 'RandomStateHook',
           'CheckpointMatchHook', 'SkippedImagesHook']
