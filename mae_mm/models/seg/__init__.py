"""ADE20K segmentation: the ViT as an UperNet backbone (the neck and heads are mmseg's)."""
from .backbone import SegViTBackbone
from .patch_resample import resample_patch_kernel
from .rel_pos_bias import RelativePositionBias, fit_offset_table, relative_offset_index

__all__ = ['SegViTBackbone', 'resample_patch_kernel', 'RelativePositionBias', 'fit_offset_table',
           'relative_offset_index']
