"""COCO detection: the ViT as a Mask R-CNN backbone, and the simple feature pyramid."""
