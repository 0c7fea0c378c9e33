# Robustness of the ViT-H classifier that configs/finetune/vit-huge-p14_8xb128-coslr-50e_in1k.py fine-tunes:
# ImageNet-A, -R, -Sketch and -C in one test pass (configs/_base_/datasets/imagenet_robustness.py).
#   python tools/test.py THIS_CONFIG FINETUNED.pth --out metrics.json
# or the `robustness` stage of a transfer suite, on its fine-tune stage's checkpoint.
_base_ = ['../finetune/vit-huge-p14_8xb128-coslr-50e_in1k.py', '../_base_/datasets/imagenet_robustness.py']

custom_imports = _base_.robustness_imports
custom_hooks = _base_.custom_hooks + _base_.robustness_hooks
test_dataloader = dict(dataset=dict(_delete_=True, type='ConcatDataset', datasets=_base_.robustness_sets))
test_evaluator = _base_.robustness_metrics
