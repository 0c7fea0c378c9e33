"""ViTDet's simple feature pyramid: every level made from the ViT's last feature map."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mae_mm.registry import MODELS

from ..vit import refuse_renamed
from .norm import LayerNorm2d


def _rescale(channels: int, scale: float) -> Tuple[nn.Module, int]:
    """The resampling stage of one level and its output channels.

    2^k (k > 0): k stride-2 transposed convolutions, each halving the channels, with
    LayerNorm + GELU between them; 1: identity; 2^-k: a 2^k x 2^k max-pool.
    """
    k = math.log2(scale)
    if k != int(k):
        raise ValueError(f'pyramid scale factors must be powers of 2, got {scale}')
    k = int(k)
    if k <= 0:
        return (nn.MaxPool2d(2 ** -k) if k else nn.Identity()), channels
    layers = []
    for i in range(k):
        if i:
            layers += [LayerNorm2d(channels), nn.GELU()]
        layers.append(nn.ConvTranspose2d(channels, channels // 2, kernel_size=2, stride=2))
        channels //= 2
    return nn.Sequential(*layers), channels


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Pyramid levels by resampling one stride-p map (ViTDet, Li et al. 2022), then P6.

    For each scale factor s: resample the map by s (transposed convolutions up, max-pool
    down), then a 1x1 conv and a 3x3 conv to ``out_channels``, each followed by the norm
    (ViTDet's :class:`LayerNorm2d`, convolutions without bias) or, with ``norm_cfg=None``,
    with a bias and no norm (as mmdet's FPN); no activation. Levels beyond the scale factors
    (``num_outs``) max-pool the last one with stride 2, as ViTDet's P6.

    Args:
        in_channels (int): Channels of the backbone's map (the ViT width, 768 for ViT-B).
        out_channels (int): Width of every level (256).
        scale_factors (sequence of float): 4, 2, 1, 1/2 give strides 4 to 32 from a stride-16 map.
        num_outs (int): Levels returned; 5 adds P6.
        norm_cfg (dict, optional): The norm after each conv (an mmcv norm config; ViTDet's
            LayerNorm by default), or ``None`` for none. The per-location LayerNorm keeps only
            each location's direction in channel space, not how strongly it responds; the
            300-iteration CPU demo does not learn through it and uses ``None``.
        init_cfg (dict, optional): mmengine init config; by default Caffe2's xavier fill of the
            1x1 and 3x3 convolutions (Kaiming-uniform, a=1), as detectron2's FPN; detectron2's
            ViTDet pyramid leaves PyTorch's default instead (the COCO configs argue the choice).

    Forward: a tuple whose last element is (B, D, h, w) -> ``num_outs`` maps (B, out, h*s, w*s).
    """

    def __init__(self,
                 in_channels: int = 768,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 num_outs: int = 5,
                 norm_cfg: Optional[dict] = dict(type='mae_mm.LayerNorm2d', eps=1e-6),
                 init_cfg: Optional[dict] = None,
                 **renamed):
        refuse_renamed(type(self).__name__, renamed, dict(
            vit_arch="the input width is in_channels, the backbone's embed_dim (vit_sizes' embed_dim in the configs)"))
        if init_cfg is None:  # Caffe2's xavier fill of the convolutions, as detectron2's FPN
            init_cfg = dict(type='Kaiming', layer='Conv2d', a=1, mode='fan_in', nonlinearity='leaky_relu',
                            distribution='uniform')
        super().__init__(init_cfg=init_cfg)
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs {num_outs} < {len(scale_factors)} scale factors')
        self.num_outs = num_outs
        self.rescales = nn.ModuleList()
        self.lateral_convs = nn.ModuleList()
        self.output_convs = nn.ModuleList()
        for scale in scale_factors:
            rescale, channels = _rescale(in_channels, scale)
            self.rescales.append(rescale)
            self.lateral_convs.append(self._conv_norm(channels, out_channels, 1, norm_cfg))
            self.output_convs.append(self._conv_norm(out_channels, out_channels, 3, norm_cfg))

    @staticmethod
    def _conv_norm(in_channels: int, out_channels: int, kernel_size: int, norm_cfg: Optional[dict]) -> nn.Sequential:
        """A conv and its norm: ``Sequential(conv, norm)``, or ``Sequential(conv)`` with a bias when no norm."""
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=norm_cfg is None)
        if norm_cfg is None:
            return nn.Sequential(conv)
        return nn.Sequential(conv, build_norm_layer(norm_cfg, out_channels)[1])

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        x = inputs[-1]
        outs = [out(lat(rescale(x))) for rescale, lat, out in zip(self.rescales, self.lateral_convs, self.output_convs)]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))
        return tuple(outs)
