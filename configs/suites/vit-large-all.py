# ViT-L/16's whole paper table: the suite of vit-large.py, plus the robustness of its fine-tuned
# classifier (ImageNet-A, -R, -Sketch, -C; the paper's appendix) and the classification transfers of
# Table 6 (iNaturalist 2017/2018/2019, Places205/365). Each needs its data under data/ (docs/evaluations.md,
# docs/classification_transfer.md); --only picks stages.
#   python tools/transfer.py PRETRAIN.pth --suite configs/suites/vit-large-all.py --launcher slurm --partition P
_base_ = ['vit-large.py']

stages = dict(
    robustness=dict(config='configs/robustness/vit-large-p16_in1k-robustness.py', train=False, evaluates='finetune',
                    gpus=8, metrics=dict(imagenet_a='imagenet-a/top1', imagenet_r='imagenet-r/top1',
                                         imagenet_sketch='imagenet-sketch/top1', imagenet_c_mCE='imagenet-c/mCE'),
                    select='imagenet_a'),
    inat2017=dict(config='configs/finetune/vit-large-p16_8xb128-coslr-111e_inat2017.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    inat2018=dict(config='configs/finetune/vit-large-p16_8xb128-coslr-146e_inat2018.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    inat2019=dict(config='configs/finetune/vit-large-p16_8xb128-coslr-242e_inat2019.py', gpus=8,
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    places205=dict(config='configs/finetune/vit-large-p16_8xb128-coslr-26e_places205.py', gpus=8,
                   metrics=dict(top1='accuracy/top1'), select='top1'),
    places365=dict(config='configs/finetune/vit-large-p16_8xb128-coslr-36e_places365.py', gpus=8,
                   metrics=dict(top1='accuracy/top1'), select='top1'),
)
cited = dict(
    label='MAE paper, ViT-L/16 (cited)',
    source=_base_.cited.source + '; robustness of the fine-tuned model: the appendix table (IN-A, IN-R, '
                                 'IN-Sketch top-1, IN-C mCE, lower is better); Table 6 (classification transfer top-1)',
    robustness=dict(imagenet_a=57.1, imagenet_r=59.9, imagenet_sketch=45.3, imagenet_c_mCE=41.8),
    inat2017=dict(top1=75.7), inat2018=dict(top1=80.1), inat2019=dict(top1=83.4),
    places205=dict(top1=65.8), places365=dict(top1=59.4))
