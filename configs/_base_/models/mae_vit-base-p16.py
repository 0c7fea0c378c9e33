# MAE with a ViT-B/16 encoder and the paper's decoder (8 blocks, width 512, 16 heads).
# Leaves change the size with model.encoder.arch; the decoder takes its input width,
# patch size and patch count from the encoder.
model = dict(
    type='MaskedAutoencoder',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    encoder=dict(type='MAEEncoder', arch='base', img_size=224, mask_ratio=0.75),
    decoder=dict(type='MAEDecoder', embed_dim=512, depth=8, num_heads=16),
    loss=dict(type='MaskedPixelLoss', norm_pix=True),
)
