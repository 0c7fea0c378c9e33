"""Sharded data parallel training (FSDP2) for the models past ViT-H."""
from .sharded_data_parallel import ShardedDataParallel, full_state_for_saving, is_sharded, root_unsharded

__all__ = ['ShardedDataParallel', 'full_state_for_saving', 'is_sharded', 'root_unsharded']
