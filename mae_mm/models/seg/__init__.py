"""ADE20K segmentation: the ViT as an UperNet backbone and the pyramid neck (the heads are mmseg's)."""
from .backbone import SegViTBackbone
from .neck import NormedFeature2Pyramid
from .rel_pos_bias import RelativePositionBias, fit_offset_table, relative_offset_index

__all__ = ['SegViTBackbone', 'NormedFeature2Pyramid', 'RelativePositionBias', 'fit_offset_table',
           'relative_offset_index']
