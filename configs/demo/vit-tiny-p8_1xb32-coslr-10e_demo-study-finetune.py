# The CPU demo study's fine-tuning (tools/demo_study.sh): the demo fine-tuning, 10 epochs instead
# of 30 (the schedule follows: 3 warmup epochs, then the cosine to the end).
_base_ = './vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py'

train_cfg = dict(max_epochs=10, val_interval=10)
work_dir = 'work_dirs/demo_study/finetune'
