# The CPU demo study's suite (tools/demo_study.sh): the demo pretraining's evaluation, a shortened
# fine-tuning and the demo linear probe; the same keys as configs/suites/demo.py.
_base_ = './demo.py'
stages = dict(
    _delete_=True,
    pretrain=_base_.stages.pretrain,
    finetune=dict(_base_.stages.finetune, config='configs/demo/vit-tiny-p8_1xb32-coslr-10e_demo-study-finetune.py'),
    linprobe=_base_.stages.linprobe,
)
