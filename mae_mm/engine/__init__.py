from .checkpoint_safety import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from .layer_decay import ViTLayerDecayOptimWrapperConstructor, infer_num_layers, vit_layer_id
from .optim_wrapper import AmpIfAvailableOptimWrapper

__all__ = ['allow_mmengine_checkpoints', 'mmengine_checkpoint_globals', 'ViTLayerDecayOptimWrapperConstructor',
           'infer_num_layers', 'vit_layer_id', 'AmpIfAvailableOptimWrapper']
