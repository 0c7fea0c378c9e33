# Multi-scale + flip test of the ViT-B UperNet: the test images at 0.5 to 1.75 times the
# single-scale size (short side 512), each also flipped; class probabilities averaged.
#   python tools/test.py configs/ade20k/upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512-ms-flip.py CKPT
# (CKPT: a checkpoint of the single-scale config; mmengine loads it into the wrapped model.)
_base_ = './upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='Resize', scale=(int(2048 * r), int(512 * r)), keep_ratio=True) for r in img_ratios],
             [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
              dict(type='RandomFlip', prob=1.0, direction='horizontal')],
             [dict(type='LoadAnnotations', reduce_zero_label=True)],
             [dict(type='PackSegInputs')],
         ]),
]
test_dataloader = dict(dataset=dict(pipeline=tta_pipeline))
model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
