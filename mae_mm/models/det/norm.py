"""LayerNorm over the channels of a (B, C, H, W) map: the norm of ViTDet's pyramid and heads."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mae_mm.registry import MODELS


@MODELS.register_module()
class LayerNorm2d(nn.LayerNorm):
    """Normalises each pixel's C channels: (B, C, H, W) -> (B, C, H, W).

    A subclass of :class:`nn.LayerNorm`, so mmcv names it ``ln`` and the layer-decay
    constructor's ``'norm'`` rule exempts it from weight decay. Usable as an mmcv
    ``norm_cfg`` from any toolbox's scope: ``dict(type='mae_mm.LayerNorm2d')``.

    Args:
        num_channels (int): C.
        eps (float): Added to the variance (1e-6 as in ViTDet).
    """

    def __init__(self, num_channels: int, eps: float = 1e-6):
        super().__init__(num_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
