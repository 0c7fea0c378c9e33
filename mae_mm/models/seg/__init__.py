"""ADE20K segmentation: the ViT as an UperNet backbone."""
