# The CPU demo of COCO transfer: the ViT-B Mask R-CNN recipe on the tiny demo ViT and the demo
# COCO set (128 x 128 pictures, three shape classes; python tools/make_demo_data.py).
#   python tools/train.py configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py
#   python tools/test.py configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py \
#       work_dirs/demo/coco/iter_300.pth
_base_ = '../coco/mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'

# model size: the demo pretraining's ViT (6 blocks of width 192, 8 x 8 patches, 64 x 64 images,
# so an 8 x 8 position grid) on a 16 x 16 token grid with 8 x 8 windows; strides 4 to 64 as in
# the real model (scale factors 2 to 1/4 of the stride-8 map); 64-wide pyramid and heads.
# The pyramid has no norm (biased convs, as mmdet's FPN): ViTDet's per-location LayerNorm on
# the pyramid outputs normalises away how strongly each location responds, and in 300
# iterations the heads do not learn from what is left (box / mask AP 0.8 / 0.4 with it, 19.6 / 30.2
# without).
image_size = (128, 128)
width = 64
classes = ('disk', 'triangle', 'square')  # mae_mm/demo_data/coco.py CLASSES
vit = _base_.vit_sizes.tiny_p8
model = dict(
    backbone=dict(
        arch=vit.arch, patch_size=vit.patch_size, img_size=image_size, pretrain_img_size=64, window_size=8,
        global_blocks=(2, 5),
        init_cfg=dict(checkpoint=vit.mae_checkpoint)),
    neck=dict(in_channels=vit.embed_dim, out_channels=width, scale_factors=(2.0, 1.0, 0.5, 0.25), norm_cfg=None),
    rpn_head=dict(in_channels=width, feat_channels=width),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=width),
        bbox_head=dict(in_channels=width, conv_out_channels=width, fc_out_channels=256,
                       num_classes=len(classes)),
        mask_roi_extractor=dict(out_channels=width),
        mask_head=dict(in_channels=width, conv_out_channels=width, num_classes=len(classes))),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300), rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))

# data: the LSJ pipeline at 128 (a narrower jitter for the short schedule), batch 8
data_root = 'data/demo/coco/'
pad_val = dict(img=(104, 116, 124))
train_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='mae_mm.IgnoreInstancesWithoutMask'),  # "segmentation": [] would crash mmdet's loader
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size, recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='Pad', size=image_size, pad_val=pad_val),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=pad_val),
    dict(type='mae_mm.IgnoreInstancesWithoutMask'),  # "segmentation": [] would crash mmdet's loader
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes), pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=dict(classes=classes), pipeline=test_pipeline))
test_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
# no validation while training: tools/test.py evaluates the last checkpoint
val_dataloader = None
val_cfg = None
val_evaluator = None

# length and lr: 300 iterations at batch 8, 50 warmup, the recipe's steps (at 88.9% and 96.3% of
# the run: iterations 266 and 288); one checkpoint, at the end
optim_wrapper = dict(optimizer=dict(lr=4e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    _base_.param_scheduler[1],
]
train_cfg = dict(max_iters=300)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=300, max_keep_ckpts=1))
work_dir = 'work_dirs/demo/coco'
randomness = dict(seed=0)  # mmdet's runtime sets none; the demo's numbers repeat
