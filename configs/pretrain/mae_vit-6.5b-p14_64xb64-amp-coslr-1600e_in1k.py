_base_ = './mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.py'

# ViT-6.5B/14 of MAWS (Singh et al., ICCV 2023), ~6.4B encoder parameters. MAWS pre-pretrained it
# with MAE on IG-3B (3B Instagram images, not public), with He et al.'s MAE otherwise: mask 0.75,
# decoder 8 x 512, norm-pix loss, AdamW (0.9, 0.95), wd 0.05, lr 1.5e-4 x batch / 256, warmup then
# cosine; its IG-3B schedule and batch are not restated here. No IN-1k MAE recipe for it is published:
# this config keeps He et al.'s ViT-H IN-1k recipe, from the base chain: 1600 epochs, 40 warmup
# epochs, bf16 autocast, total batch 4096.
vit = _base_.vit_sizes.vit6_5b_p14
# Activation checkpointing on the encoder (each block's input kept, the rest recomputed in
# backward); the decoder is the ViT-H config's and is not checkpointed.
model = dict(encoder=dict(arch=vit.arch, with_checkpoint=True))

# The same 4096 (so the same lr) as 64 GPUs x 64, the official MAE code's own layout. 8 x 512 would hold
# ~13 GB of sharded state, ~17 GB of block inputs (512 x 65 tokens x 32 blocks x 4096 x 4 bytes) and the
# decoder's activations a GPU, and its ~7e21 FLOPs would take ~25 days on 8 H100s at 40% of their bf16
# peak (~3 days on 64); estimates, not measured.
train_dataloader = dict(batch_size=64)

# FSDP2: each Block a unit, resharded after forward; fp32 parameters under the optimizer wrapper's bf16
# autocast (mixed_precision unset). Per GPU of 64: ~1.6 GB of the ~104 GB of weights, gradients and moments.
model_wrapper_cfg = dict(type='mae_mm.ShardedDataParallel')

# A checkpoint with its AdamW moments is ~78 GB (12 bytes a parameter), written by rank 0 while the
# others wait: ~26 min at the 50 MB/s default_runtime.py sizes its 600 s for; 3600 s keeps 2x headroom.
env_cfg = dict(dist_cfg=dict(timeout=3600))
