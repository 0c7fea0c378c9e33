"""The UperNet neck: four same-stride ViT maps -> a 1/4, 1/8, 1/16, 1/32 pyramid."""
from typing import Sequence

from mmcv.cnn import build_norm_layer
from mmseg.models.necks import Feature2Pyramid

from mae_mm.registry import MODELS


@MODELS.register_module()
class NormedFeature2Pyramid(Feature2Pyramid):
    """mmseg's ``Feature2Pyramid`` with a norm on its 2x path as well as its 4x path.

    Per input (each ``(B, C, H/16, W/16)`` for a 16-pixel patch grid), by ``rescales``:

    - 4: ConvTranspose(2, 2) -> norm -> GELU -> ConvTranspose(2, 2), out ``(B, C, H/4, W/4)`` (mmseg's);
    - 2: ConvTranspose(2, 2) -> norm, out ``(B, C, H/8, W/8)`` (mmseg's has no norm here);
    - 1: identity, ``(B, C, H/16, W/16)``; 0.5: 2 x 2 max-pool, ``(B, C, H/32, W/32)``.

    The norm is ``norm_cfg`` (SyncBN in the configs; mmengine's runner reverts it to BatchNorm
    when it runs undistributed, e.g. in one CPU process). ``norm_2x=False`` builds exactly mmseg's
    module, i.e. the BEiT / MAE reference neck, state-dict keys included.

    Args:
        embed_dim: channels of the inputs and outputs (the ViT width).
        rescales: one scale factor per input, from {4, 2, 1, 0.5, 0.25}.
        norm_cfg: the norm layers' config.
        norm_2x: whether the 2x transposed convolution is followed by a norm.
    """

    def __init__(self, embed_dim: int, rescales: Sequence[float] = (4, 2, 1, 0.5),
                 norm_cfg: dict = dict(type='SyncBN', requires_grad=True), norm_2x: bool = True):
        super().__init__(embed_dim, rescales=list(rescales), norm_cfg=norm_cfg)
        self.norm_2x = norm_2x
        if norm_2x and 2 in self.rescales:
            self.upsample_2x.append(build_norm_layer(norm_cfg, embed_dim)[1])
