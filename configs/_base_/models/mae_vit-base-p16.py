# MAE with a ViT-B/16 encoder and the paper's decoder (8 blocks, width 512, 16 heads).
# Leaves change the size with vit = _base_.vit_sizes.<size> and model.encoder.arch=vit.arch; the
# decoder takes its input width, patch size and patch count from the encoder.
_base_ = './vit_sizes.py'

vit = _base_.vit_sizes.base_p16
model = dict(
    type='MaskedAutoencoder',
    # images only, copied to the GPU without blocking (the loader pins its batches)
    data_preprocessor=dict(
        type='MAEDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True,
        non_blocking=True),
    # with_checkpoint=True on both trades recomputation for activation memory (L/H)
    # mask_generator: RandomMasking (the paper's), BlockwiseMasking or GridMasking (docs/masking.md)
    encoder=dict(type='MAEEncoder', arch=vit.arch, pretrain_img_size=224, mask_ratio=0.75,
                 mask_generator=dict(type='RandomMasking'), with_checkpoint=False),
    decoder=dict(type='MAEDecoder', embed_dim=512, depth=8, num_heads=16, with_checkpoint=False),
    # what the decoder predicts (Table 1d): NormalizedPixelTarget, PixelTarget or HOGTarget (docs/targets.md)
    target=dict(type='NormalizedPixelTarget'),
)
