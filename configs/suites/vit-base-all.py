# ViT-B/16's whole paper table: the suite of vit-base.py, plus the robustness of its fine-tuned
# classifier (ImageNet-A, -R, -Sketch, -C; the paper's appendix) and the classification transfers of
# Table 6 (iNaturalist 2017/2018/2019, Places205/365). Each needs its data under data/ (docs/evaluations.md,
# docs/classification_transfer.md); --only picks stages.
#   python tools/transfer.py PRETRAIN.pth --suite configs/suites/vit-base-all.py --launcher slurm --partition P
_base_ = ['vit-base.py']

stages = dict(
    robustness=dict(config='configs/robustness/vit-base-p16_in1k-robustness.py', train=False, evaluates='finetune',
                    gpus=8, metrics=dict(imagenet_a='imagenet-a/top1', imagenet_r='imagenet-r/top1',
                                         imagenet_sketch='imagenet-sketch/top1', imagenet_c_mCE='imagenet-c/mCE'),
                    select='imagenet_a'),
    inat2017=dict(config='configs/finetune/vit-base-p16_8xb128-coslr-221e_inat2017.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    inat2018=dict(config='configs/finetune/vit-base-p16_8xb128-coslr-293e_inat2018.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    inat2019=dict(config='configs/finetune/vit-base-p16_8xb128-coslr-483e_inat2019.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    places205=dict(config='configs/finetune/vit-base-p16_8xb128-coslr-52e_places205.py', gpus=8,
                   metrics=dict(top1='accuracy/top1'), select='top1'),
    places365=dict(config='configs/finetune/vit-base-p16_8xb128-coslr-71e_places365.py', gpus=8,
                   metrics=dict(top1='accuracy/top1'), select='top1'),
)
cited = dict(
    label='MAE paper, ViT-B/16 (cited)',
    source=_base_.cited.source + '; robustness of the fine-tuned model: the appendix table (IN-A, IN-R, '
                                 'IN-Sketch top-1, IN-C mCE, lower is better); Table 6 (classification transfer top-1)',
    robustness=dict(imagenet_a=35.9, imagenet_r=48.3, imagenet_sketch=34.5, imagenet_c_mCE=51.7),
    inat2017=dict(top1=70.5), inat2018=dict(top1=75.4), inat2019=dict(top1=80.5),
    places205=dict(top1=63.9), places365=dict(top1=57.9))
