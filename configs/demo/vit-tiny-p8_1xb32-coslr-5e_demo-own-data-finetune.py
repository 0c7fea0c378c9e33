# The CPU demo's fine-tuning on "your own labelled images": data/demo/own/classification
# (train/<class>/, val/<class>/, three classes; python tools/make_demo_data.py --own-data), 5 epochs.
_base_ = './vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py'

own_data = dict()
data_root = 'data/demo/own/classification'
param_scheduler = [dict(_base_.param_scheduler[0], end=1), dict(_base_.param_scheduler[1], begin=1)]
train_cfg = dict(max_epochs=5, val_interval=5)
work_dir = 'work_dirs/demo/own-data/finetune'
