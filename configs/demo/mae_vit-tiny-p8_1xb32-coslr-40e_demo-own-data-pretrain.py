# The CPU demo's pretraining on "your own images": every image under data/demo/own/photos (a flat
# folder of mixed formats; python tools/make_demo_data.py --own-data), a quarter held out for the
# reconstruction metric. The same as the demo pretraining on any folder:
#   python tools/train.py configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py --data-root DIR
_base_ = './mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py'

own_data = dict(val_fraction=0.25)
data_root = 'data/demo/own/photos'
work_dir = 'work_dirs/demo/own-data/pretrain'
