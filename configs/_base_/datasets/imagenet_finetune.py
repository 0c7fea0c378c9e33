# ImageNet-1k classification with the paper's fine-tuning augmentation (RandAugment m9 std 0.5,
# random erasing 0.25; mixup and cutmix live in the model's train_cfg), evaluated at
# resize 256 (bicubic) -> centre crop 224, top-1 and top-5. Bad images stop the run naming the
# file (LoadCheckedImage); skip and count them with
#   --cfg-options train_dataloader.dataset.pipeline.0.on_error=skip
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
# The images stay BGR, as mmcv decodes them, until the data preprocessor (to_rgb=True) swaps the
# channels on the batch: RandAugment's geometric ops (rotate, shear, translate) therefore fill
# with the mean in BGR order, [104, 116, 124], which is the official code's fill (timm's
# rounded ImageNet mean, (124, 116, 104) in RGB) on a BGR image. RandomErasing fills in the
# same order.

# Training: LoadCheckedImage + RandomResizedCrop in one step that decodes a JPEG only at the DCT
# scale the crop needs (docs/benchmark.md, "Data loading"); the full decode of before with
#   --cfg-options train_dataloader.dataset.pipeline.0.reduced_decode=False
# Evaluation stays on the full decode; a reduced one (at least 256 px on the short edge) with
#   --cfg-options test_dataloader.dataset.pipeline.0.min_short_edge=256
train_pipeline = [
    dict(type='mae_mm.DecodeRandomResizedCrop', scale=224, interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=bgr_mean, fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

# Workers restart each epoch (persistent_workers=False): their augmentation streams then
# restart with the epoch as they do after a --resume, which keeps a resumed run bit-exact
# (mae_mm/engine/random_state_hook.py); the cost is the workers' start-up once per epoch.
train_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=False,
    pin_memory=True,
    # the last partial batch is dropped, as the official fine-tuning loader (drop_last=True)
    drop_last=True,
    sampler=dict(type='mae_mm.ResumableSampler', shuffle=True),  # DefaultSampler that can start mid-epoch
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
val_cfg = dict()
test_cfg = dict()
