"""ImageNet classification on the ViT: fine-tuning and linear probing."""
from .vit_cls_backbone import ViTClsBackbone

__all__ = ['ViTClsBackbone']
