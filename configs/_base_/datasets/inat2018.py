# iNaturalist 2018 (github.com/visipedia/inat_comp/tree/master/2018): 8,142 species, 437,513 train and
# 24,426 val images. Under data/inat2018/, as the archives unpack:
#   train2018.json, val2018.json                            <- train2018.json.tar.gz, val2018.json.tar.gz
#   train_val2018/<supercategory>/<category>/<id>.jpg       <- train_val2018.tar.gz
# The jsons' category names are obfuscated; the README's categories.json holds the real ones.
# The data sets only: a fine-tune leaf inherits its size's ImageNet config (pipelines, loaders,
# evaluator) and this file, and puts these data sets in its loaders (docs/classification_transfer.md).
transfer_data = dict(
    imports=dict(imports=['mae_mm.runtime', 'mae_mm.datasets.inaturalist'], allow_failed_imports=False),
    num_classes=8142,
    # epochs of this set per ImageNet-1k epoch (1,281,167 images) at the same number of iterations
    epoch_scale=1281167 / 437513,
    train=dict(type='mae_mm.INaturalist', data_root='data/inat2018/', ann_file='train2018.json'),
    val=dict(type='mae_mm.INaturalist', data_root='data/inat2018/', ann_file='val2018.json'),
)
