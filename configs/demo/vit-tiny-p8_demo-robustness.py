# CPU demo: the robustness evaluation (configs/_base_/datasets/imagenet_robustness.py) of the demo
# classifier (vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py) on the demo's local stand-ins, made by
# tools/make_demo_data.py: a corrupted copy of the validation set in ImageNet-C's layout (64 x 64
# centre crops, evaluated as they are) and a rendition-style subset of the classes in ImageNet-R's
# layout (top-1 over its classes only). AlexNet's errors mean nothing on five synthetic classes:
# the corruptions are reported as plain errors (no CE, no mCE).
_base_ = ['vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', '../_base_/datasets/imagenet_robustness.py']

# the classifier's classes: the demo's class folders in sorted order, as mmpretrain lists them
robustness_classes = ('checkers', 'disks', 'photo', 'stripes', 'triangles')
rendition_classes = ('disks', 'stripes', 'triangles')  # mae_mm/demo_data/imagenet_r.py
benchmark_corruptions = ('gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur', 'motion_blur', 'zoom_blur',
                         'fog', 'brightness', 'contrast', 'pixelate', 'jpeg_compression')  # mae_mm/demo_data/imagenet_c.py
extra_corruptions = ('speckle_noise', 'gaussian_blur', 'saturate')
resized = [dict(step, **_base_.demo_sizes.get(step.type, {})) for step in _base_.robustness_resized]

custom_imports = _base_.robustness_imports
custom_hooks = _base_.custom_hooks + _base_.robustness_hooks
test_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets=[
    dict(type='mae_mm.ClassFolderTestSet', data_root='data/demo/imagenet-r', domain='imagenet-r',
         classes=robustness_classes, expected=rendition_classes, pipeline=resized),
    dict(type='mae_mm.CorruptedTestSet', data_root='data/demo/imagenet-c', domain='imagenet-c',
         classes=robustness_classes, corruptions=benchmark_corruptions + extra_corruptions,
         pipeline=_base_.robustness_as_is),
]))
test_evaluator = [
    dict(type='mae_mm.DomainTop1', domain='imagenet-r', subset=rendition_classes),
    dict(type='mae_mm.CorruptionError', domain='imagenet-c', benchmark=benchmark_corruptions,
         extra=extra_corruptions, normalizer=None),
]
work_dir = 'work_dirs/demo/robustness'
