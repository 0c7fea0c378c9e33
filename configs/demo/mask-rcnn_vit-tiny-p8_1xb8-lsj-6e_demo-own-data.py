# The CPU demo's Mask R-CNN on "your own COCO-format set": data/demo/own/coco (two categories, ids
# 1 and 3; python tools/make_demo_data.py --own-data), 6 passes over its 24 training images.
_base_ = './mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py'

own_data = dict(epochs=6)
data_root = 'data/demo/own/coco'
param_scheduler = [dict(_base_.param_scheduler[0], end=5), _base_.param_scheduler[1]]
work_dir = 'work_dirs/demo/own-data/detection'
