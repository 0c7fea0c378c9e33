# iNaturalist 2017 (Van Horn et al., CVPR 2018; github.com/visipedia/inat_comp/tree/master/2017):
# 5,089 categories, 579,184 train and 95,986 val images. Under data/inat2017/, as the archives unpack:
#   train2017.json, val2017.json                            <- train_val2017.zip
#   train_val_images/<supercategory>/<category>/<id>.jpg    <- train_val_images.tar.gz
# The data sets only: a fine-tune leaf inherits its size's ImageNet config (pipelines, loaders,
# evaluator) and this file, and puts these data sets in its loaders (docs/classification_transfer.md).
transfer_data = dict(
    imports=dict(imports=['mae_mm.runtime', 'mae_mm.datasets.inaturalist'], allow_failed_imports=False),
    num_classes=5089,
    # epochs of this set per ImageNet-1k epoch (1,281,167 images) at the same number of iterations
    epoch_scale=1281167 / 579184,
    train=dict(type='mae_mm.INaturalist', data_root='data/inat2017/', ann_file='train2017.json'),
    val=dict(type='mae_mm.INaturalist', data_root='data/inat2017/', ann_file='val2017.json'),
)
