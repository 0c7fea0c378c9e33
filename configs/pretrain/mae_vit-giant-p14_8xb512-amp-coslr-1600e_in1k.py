_base_ = './mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.py'

# ViT-g/14 (Zhai et al., CVPR 2022), ~1.0B encoder parameters. No MAE recipe for it on IN-1k is
# published; this is He et al.'s ViT-H IN-1k recipe unchanged, all from the base chain: 1600 epochs,
# batch 4096 (8 x 512), AdamW (0.9, 0.95), wd 0.05, lr 1.5e-4 x batch / 256, 40 warmup epochs then
# cosine, mask 0.75, decoder 8 x 512, norm-pix loss, bf16 autocast.
vit = _base_.vit_sizes.giant_p14
# Activation checkpointing on the encoder: it keeps each block's input (65 tokens at 224 px, 75% masked),
# recomputes the rest in backward (~1/3 more encoder compute); 512 a GPU then holds less encoder
# activation than the ViT-H config without it (~9 GB against ~45 GB; estimated, not measured). The
# decoder is the ViT-H config's (8 x 512 over 257 tokens, whatever the encoder) and is not checkpointed.
model = dict(encoder=dict(arch=vit.arch, with_checkpoint=True))

# FSDP2: each Block a unit, resharded after forward; fp32 parameters under the optimizer wrapper's bf16
# autocast (mixed_precision unset). Per GPU of 8: a 1/8 share of the 16 bytes per parameter of
# weights, gradients and AdamW moments (~2 GB of ~17 GB).
model_wrapper_cfg = dict(type='mae_mm.ShardedDataParallel')
