# iNaturalist 2019 (github.com/visipedia/inat_comp/tree/master/2019): 1,010 species, 265,213 train and
# 3,030 val images (268,243 together). Under data/inat2019/, as the archives unpack:
#   train2019.json, val2019.json                            <- train2019.json.tar.gz, val2019.json.tar.gz
#   train_val2019/<supercategory>/<category>/<id>.jpg       <- train_val2019.tar.gz
# The jsons' category names are obfuscated; the README's categories.json holds the real ones.
# The data sets only: a fine-tune leaf inherits its size's ImageNet config (pipelines, loaders,
# evaluator) and this file, and puts these data sets in its loaders (docs/classification_transfer.md).
transfer_data = dict(
    imports=dict(imports=['mae_mm.runtime', 'mae_mm.datasets.inaturalist'], allow_failed_imports=False),
    num_classes=1010,
    # epochs of this set per ImageNet-1k epoch (1,281,167 images) at the same number of iterations
    epoch_scale=1281167 / 265213,
    train=dict(type='mae_mm.INaturalist', data_root='data/inat2019/', ann_file='train2019.json'),
    val=dict(type='mae_mm.INaturalist', data_root='data/inat2019/', ann_file='val2019.json'),
)
