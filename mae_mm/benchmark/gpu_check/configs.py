"""The configs gpu_check's rows run: the real ones on a GPU, demo or shrunk ones under ``--smoke``."""

DEMO = 'configs/demo/'
DEMO_PRETRAIN = DEMO + 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'
DEMO_FINETUNE = DEMO + 'vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py'
DEMO_COCO = DEMO + 'mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py'
DEMO_ADE20K = DEMO + 'upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py'
DEMO_TASKS = [  # (name, config, amp on CUDA: fp16 for Mask R-CNN, whose RoIAlign has no bf16 kernel)
    ('pretrain', DEMO_PRETRAIN, 'bf16'),
    ('finetune', DEMO_FINETUNE, 'bf16'),
    ('linprobe', DEMO + 'vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py', 'bf16'),
    ('coco', DEMO_COCO, 'fp16'),
    ('ade20k', DEMO_ADE20K, 'bf16'),
]
PRETRAIN_B = 'configs/pretrain/mae_vit-base-p16_8xb512-amp-coslr-800e_in1k.py'
PRETRAIN_L = 'configs/pretrain/mae_vit-large-p16_8xb512-amp-coslr-800e_in1k.py'
PRETRAIN_B_GPU_DECODE = 'configs/pretrain/mae_vit-base-p16_8xb512-amp-gpudecode-coslr-800e_in1k.py'
FINETUNE_B = 'configs/finetune/vit-base-p16_8xb128-coslr-100e_in1k.py'
MASK_RCNN_B = 'configs/coco/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'
UPERNET_B = 'configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

# --smoke: a real pretraining config shrunk to the demo ViT (what the demo config does to ViT-B)
TOY_PRETRAIN = """_base_ = {base!r}
vit = _base_.vit_sizes.tiny_p8
model = dict(encoder=dict(arch=vit.arch, pretrain_img_size=64, patch_size=vit.patch_size),
             decoder=dict(embed_dim=128, depth=2, num_heads=4))
"""
TOY_GPU_DECODE_PIPELINE = """train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadJpegBytes'),
    dict(type='RandomResizedCropParams', scale=64, crop_ratio_range=(0.2, 1.0), interpolation='bicubic'),
    dict(type='RandomFlipParams', prob=0.5),
    dict(type='PackJpegBytes')]))
"""
