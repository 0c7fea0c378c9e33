"""COCO detection: the ViT as a Mask R-CNN backbone, and the simple feature pyramid."""
from .backbone import ViTDetBackbone
from .neck import SimpleFeaturePyramid
from .norm import LayerNorm2d
from .window_attention import (RelPosAttention, WindowBlock, decomposed_rel_pos_bias, rel_pos_lookup,
                               window_partition, window_unpartition)

__all__ = ['ViTDetBackbone', 'SimpleFeaturePyramid', 'LayerNorm2d', 'RelPosAttention',
           'WindowBlock', 'decomposed_rel_pos_bias', 'rel_pos_lookup', 'window_partition', 'window_unpartition']
