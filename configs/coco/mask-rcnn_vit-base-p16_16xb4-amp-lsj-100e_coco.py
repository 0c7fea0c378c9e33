# Mask R-CNN on the MAE-pretrained ViT-B/16, COCO, ViTDet's recipe (Li et al., ECCV 2022;
# 51.6 box AP / 45.9 mask AP cited): mmdet's Mask R-CNN and COCO bases with our backbone and
# simple feature pyramid, ViTDet's head changes, LSJ at 1024, 100 epochs at batch 64.
#   python tools/train.py configs/coco/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',  # + mmdet's default runtime (default_scope 'mmdet')
    '../_base_/models/vit_sizes.py',
    '../_base_/reliability.py',
]

# the reliability base's list restated (mmengine replaces lists whole) plus our detection parts
custom_imports = dict(imports=['mae_mm.runtime', 'mae_mm.models.det'], allow_failed_imports=False)

vit = _base_.vit_sizes.base_p16

image_size = (1024, 1024)
norm_cfg = dict(type='mae_mm.LayerNorm2d')  # ViTDet's "LN" in the pyramid and the RoI heads
model = dict(
    data_preprocessor=dict(pad_size_divisor=32, pad_mask=True),
    backbone=dict(
        _delete_=True,
        type='mae_mm.ViTDetBackbone',
        arch=vit.arch,
        img_size=image_size,
        pretrain_img_size=224,
        window_size=14,
        global_blocks=(2, 5, 8, 11),  # 0-based; window attention in all the others
        rel_pos_bias=True,
        drop_path_rate=0.1,
        with_checkpoint=False,
        # the pretraining run's last checkpoint (tools/train.py's default work dir); its
        # encoder.* keys are this backbone's parameter names
        init_cfg=dict(type='Pretrained', prefix='encoder.',
                      checkpoint=vit.mae_checkpoint)),
    neck=dict(
        _delete_=True,
        type='mae_mm.SimpleFeaturePyramid',
        in_channels=vit.embed_dim,  # the backbone's width
        out_channels=256,
        scale_factors=(4.0, 2.0, 1.0, 0.5),  # strides 4, 8, 16, 32 from the stride-16 map
        num_outs=5),  # + P6 by max-pool: strides 4 to 64, as the anchors and RoI extractors expect
    # The pyramid's 1x1 and 3x3 convs start from mae_mm's default, Kaiming-uniform with a=1
    # (bound sqrt(3 / fan_in)); detectron2's SimpleFeaturePyramid (cited) leaves PyTorch's default
    # (a=sqrt(5), bound 1 / sqrt(fan_in)): the same distribution scaled by 1/sqrt(3). Not matched:
    # each of these convs has no bias and is followed by its LayerNorm, which divides out the
    # weights' scale, so both start from the same function; AdamW's steps do not grow with the
    # weights, so early on they move these weights by a relative amount sqrt(3) smaller.
    # detectron2's exactly: neck=dict(init_cfg=dict(type='Kaiming', layer='Conv2d',
    # a=5 ** 0.5, mode='fan_in', nonlinearity='leaky_relu', distribution='uniform')).
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

# Large-scale jitter: flip, resize by 0.1-2.0 of 1024, crop to 1024, pad to 1024 x 1024 (the
# pad is the mean colour, so it normalises to 0 as ViTDet's); test: longest side 1024, padded.
pad_val = dict(img=(104, 116, 124))  # BGR mean, as loaded
backend_args = None
train_pipeline = [
    dict(type='mae_mm.LoadCheckedImage', backend_args=backend_args),
    dict(type='mae_mm.IgnoreInstancesWithoutMask'),  # "segmentation": [] would crash mmdet's loader
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size, recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='Pad', size=image_size, pad_val=pad_val),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='mae_mm.LoadCheckedImage', backend_args=backend_args),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=pad_val),
    dict(type='mae_mm.IgnoreInstancesWithoutMask'),  # "segmentation": [] would crash mmdet's loader
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
# 16 GPUs x 4 images = batch 64, iteration-based (no RepeatDataset)
train_dataloader = dict(
    batch_size=4,
    num_workers=8,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, type='CocoDataset', data_root='data/coco/',
                 ann_file='annotations/instances_train2017.json', data_prefix=dict(img='train2017/'),
                 filter_cfg=dict(filter_empty_gt=True, min_size=32), pipeline=train_pipeline,
                 backend_args=backend_args))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# val_evaluator / test_evaluator: mmdet's CocoMetric (pycocotools) on bbox and segm, from the base

# AdamW 1e-4, wd 0.1, betas (0.9, 0.999); lr x 0.7^(12 + 1 - layer) per ViT layer; only norms
# and the position table skip weight decay (biases and the relative position tables decay), as
# ViTDet's B and L (the H config decays all).
# fp16 autocast on GPU (mmcv's RoIAlign has no bf16 kernel), fp32 on a CPU-only machine.
optim_wrapper = dict(
    _delete_=True,
    type='mae_mm.build_amp_optim_wrapper',
    dtype='float16',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='mae_mm.ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.7, no_decay=('norm', 'pos_embed')))

# 100 epochs = 184,375 iterations at batch 64: 250 warmup iterations, lr x 0.1 at 163,889 and 177,546.
# The steps are fractions of the run (FractionalMultiStepLR; no `end`: the Runner sets it to
# max_iters), so changing train_cfg.max_iters alone scales them: 122,916 and 133,159 of the ViT-H
# run's 138,281, as ViTDet's 75-epoch schedule. The loop validates every `interval` iterations
# and always at the last one (mmengine's loop does), whatever the length.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=250),
    dict(type='mae_mm.FractionalMultiStepLR', by_epoch=False, begin=0,
         milestone_fractions=[163889 / 184375, 177546 / 184375], gamma=0.1),
]
interval = 5000
train_cfg = dict(_delete_=True, type='mae_mm.ResumableIterBasedTrainLoop', max_iters=184375, val_interval=interval)
default_hooks = dict(
    logger=dict(interval=50, log_metric_by_epoch=False),
    # atomic writes, the old checkpoint removed only once the new one is written (mae_mm/engine/checkpoint_hook.py)
    checkpoint=dict(type='mae_mm.WriteFirstCheckpointHook', by_epoch=False, interval=interval, max_keep_ckpts=3,
                    save_last=True, backend_args=dict(backend='atomic_local')))
log_processor = dict(by_epoch=False)
auto_scale_lr = dict(base_batch_size=64)

# a peer that stops answering ends the run after 600 s, not torch's 30 min (gloo): as our own runtime
# (configs/_base_/default_runtime.py says why); mmdet's / mmseg's runtime base sets no timeout
env_cfg = dict(dist_cfg=dict(timeout=600))
