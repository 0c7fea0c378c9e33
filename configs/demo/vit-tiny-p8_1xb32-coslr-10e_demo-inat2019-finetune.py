# CPU demo of the classification transfer (docs/classification_transfer.md): the demo fine-tuning, for 10
# epochs, on the demo iNaturalist 2019 (data/demo/inat/: train2019.json, val2019.json, train_val2019/...,
# from python tools/make_demo_data.py) read by the iNat 2019 configs' own data sets. Its five species are
# the demo fine-tuning's five classes.
_base_ = ['./vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py', '../_base_/datasets/inat2019.py']

transfer_data = _base_.transfer_data
custom_imports = transfer_data.imports
demo_root = 'data/demo/inat'
train_dataloader = dict(dataset=dict(transfer_data.train, _delete_=True, data_root=demo_root,
                                     pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(transfer_data.val, _delete_=True, data_root=demo_root,
                                   pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=10)
work_dir = 'work_dirs/demo/finetune_inat2019'
