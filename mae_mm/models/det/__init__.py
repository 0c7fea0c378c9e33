"""COCO detection: the ViT as a Mask R-CNN backbone, and the simple feature pyramid."""
from .backbone import ViTDetBackbone
from .decomposed_rel_pos import DecomposedRelPosBias, decomposed_rel_pos_bias, rel_pos_lookup
from .neck import SimpleFeaturePyramid
from .norm import LayerNorm2d

__all__ = ['ViTDetBackbone', 'SimpleFeaturePyramid', 'LayerNorm2d', 'DecomposedRelPosBias',
           'decomposed_rel_pos_bias', 'rel_pos_lookup']
