# The CPU demo's UperNet on "your own label maps": data/demo/own/segmentation (images/, annotations/,
# classes.txt: three classes, 255 ignored; python tools/make_demo_data.py --own-data), 6 passes
# over its 24 training images.
_base_ = './upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py'

own_data = dict(epochs=6)
data_root = 'data/demo/own/segmentation'
param_scheduler = [dict(_base_.param_scheduler[0], end=5), dict(_base_.param_scheduler[1], begin=5)]
work_dir = 'work_dirs/demo/own-data/segmentation'
