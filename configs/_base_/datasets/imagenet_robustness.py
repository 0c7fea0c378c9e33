# The robustness evaluation of an ImageNet-1k classifier (the MAE paper's appendix table, "no
# specialised fine-tuning"): one test pass over four sets, each scored by its own metric.
# - ImageNet-A (data/imagenet-a/<wnid>/*.jpg) and ImageNet-R (data/imagenet-r/<wnid>/*.jpg): top-1
#   over their 200 classes, the classifier's other 800 scores dropped before the argmax;
# - ImageNet-Sketch (data/imagenet-sketch/sketch/<wnid>/*.JPEG): top-1 over the 1000 classes;
# - ImageNet-C (data/imagenet-c/<corruption>/<severity>/<wnid>/*.JPEG): top-1 error per corruption
#   and severity, CE per corruption against AlexNet's errors, mCE over the 15 benchmark ones, the
#   4 extra ones apart. Its images are already 224 x 224 centre crops: evaluated as they are.
# Labels are the wnid folders' indices in the classifier's classes ('imagenet-1k': the 1000 wnids
# in class-index order). Class folders other than a set's published ones stop the run naming the
# first differences; a corruption or severity absent from an ImageNet-C copy is reported missing.
# A leaf inherits its fine-tune config and this file, then states:
#   custom_imports = robustness_imports
#   test_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets=robustness_sets))
#   test_evaluator = robustness_metrics
#   custom_hooks = _base_.custom_hooks + robustness_hooks
robustness_imports = dict(imports=['mae_mm.runtime', 'mae_mm.datasets.robustness',
                                   'mae_mm.evaluation.robustness_metrics'], allow_failed_imports=False)
robustness_classes = 'imagenet-1k'
# stops before evaluating a checkpoint whose classifier was trained on other classes than these
robustness_hooks = [dict(type='mae_mm.ClassifierClassesHook')]
robustness_meta_keys = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'domain', 'corruption', 'severity')
# the fine-tune recipe's evaluation: short edge 256 (bicubic), centre crop 224
robustness_resized = [
    dict(type='mae_mm.LoadCheckedImage'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs', meta_keys=robustness_meta_keys),
]
robustness_as_is = [dict(type='mae_mm.LoadCheckedImage'), dict(type='PackInputs', meta_keys=robustness_meta_keys)]
robustness_sets = [
    dict(type='mae_mm.ClassFolderTestSet', data_root='data/imagenet-a', domain='imagenet-a',
         classes=robustness_classes, expected='imagenet-a', pipeline=robustness_resized),
    dict(type='mae_mm.ClassFolderTestSet', data_root='data/imagenet-r', domain='imagenet-r',
         classes=robustness_classes, expected='imagenet-r', pipeline=robustness_resized),
    dict(type='mae_mm.ClassFolderTestSet', data_root='data/imagenet-sketch/sketch', domain='imagenet-sketch',
         classes=robustness_classes, pipeline=robustness_resized),
    dict(type='mae_mm.CorruptedTestSet', data_root='data/imagenet-c', domain='imagenet-c',
         classes=robustness_classes, pipeline=robustness_as_is,
         corruptions=('gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur', 'glass_blur',
                      'motion_blur', 'zoom_blur', 'snow', 'frost', 'fog', 'brightness', 'contrast',
                      'elastic_transform', 'pixelate', 'jpeg_compression',
                      'speckle_noise', 'gaussian_blur', 'spatter', 'saturate')),
]
robustness_metrics = [
    dict(type='mae_mm.DomainTop1', domain='imagenet-a', subset='imagenet-a'),
    dict(type='mae_mm.DomainTop1', domain='imagenet-r', subset='imagenet-r'),
    dict(type='mae_mm.DomainTop1', domain='imagenet-sketch'),
    dict(type='mae_mm.CorruptionError', domain='imagenet-c', normalizer='alexnet'),
]
