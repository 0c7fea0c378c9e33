# The CPU demo's transfer suite (tools/demo.sh): the four demo transfers from one demo pretraining
# checkpoint, one process each, and the pretraining checkpoint's masked reconstruction loss.
#   python tools/transfer.py work_dirs/demo/pretrain/epoch_40.pth --suite configs/suites/demo.py \
#       --work-dir work_dirs/demo
# Keys of a stage: config (its transfer config), gpus (processes; 1 = no launcher), metrics
# (results.json key -> the key tools/test.py reports), select (the metric that picks a sweep's best
# point), and for `pretrain` train=False (an evaluation of the checkpoint itself, only for one of our
# pretraining checkpoints); `robustness` is train=False with evaluates='finetune': a test of the
# classifier that the finetune stage trained (each seed's, of the sweep's best point).
stages = dict(
    pretrain=dict(config='configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py', train=False,
                  metrics=dict(loss='recon/mse'), select='loss', lower_is_better=True),
    finetune=dict(config='configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py',
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    linprobe=dict(config='configs/demo/vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py',
                  metrics=dict(top1='accuracy/top1'), select='top1'),
    coco=dict(config='configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py',
              metrics=dict(bbox_mAP='coco/bbox_mAP', segm_mAP='coco/segm_mAP'), select='bbox_mAP'),
    ade20k=dict(config='configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py',
                metrics=dict(mIoU='mIoU'), select='mIoU'),
    # the fine-tuned classifier on the demo's ImageNet-R and ImageNet-C stand-ins (inference only);
    # plain errors, as AlexNet's normaliser means nothing on five synthetic classes
    robustness=dict(config='configs/demo/vit-tiny-p8_demo-robustness.py', train=False, evaluates='finetune',
                    metrics=dict(imagenet_r_top1='imagenet-r/top1', imagenet_c_error='imagenet-c/mean_error',
                                 imagenet_c_extra_error='imagenet-c/extra_mean_error'),
                    select='imagenet_r_top1'),
)
# Cited for orientation, not comparable: the demo is a 6-block ViT on 500 synthetic 64 px images.
cited = dict(
    label='MAE paper, ViT-B/16 (cited, not comparable)',
    source='He et al., CVPR 2022: Table 3 (fine-tune), Sec. 4 (linear probe 68.0), Table 4 (COCO), Table 5 (ADE20K)',
    finetune=dict(top1=83.6), linprobe=dict(top1=68.0), coco=dict(bbox_mAP=50.3, segm_mAP=44.9),
    ade20k=dict(mIoU=48.1))
