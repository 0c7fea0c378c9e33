# Places365-Standard (Zhou et al., TPAMI 2017; places2.csail.mit.edu; the development kit,
# github.com/zhoubolei/places_devkit): 365 scene categories, 1,803,460 train and 36,500 val images
# (100 a category). Under data/places365/, as the archives unpack:
#   categories_places365.txt, places365_train_standard.txt, places365_val.txt
#                                                        <- filelist_places365-standard.tar
#   data_large/<letter>/<category>/<n>.jpg               <- train_large_places365standard.tar
#   val_large/Places365_val_<n>.jpg                      <- val_large.tar
# (the 256 x 256 images: data_prefix='data_256' / 'val_256', from the *_256 archives)
# The data sets only: a fine-tune leaf inherits its size's ImageNet config (pipelines, loaders,
# evaluator) and this file, and puts these data sets in its loaders (docs/classification_transfer.md).
transfer_data = dict(
    imports=dict(imports=['mae_mm.runtime', 'mae_mm.datasets.places365'], allow_failed_imports=False),
    num_classes=365,
    # epochs of this set per ImageNet-1k epoch (1,281,167 images) at the same number of iterations
    epoch_scale=1281167 / 1803460,
    train=dict(type='mae_mm.Places365', data_root='data/places365/', ann_file='places365_train_standard.txt',
               data_prefix='data_large'),
    val=dict(type='mae_mm.Places365', data_root='data/places365/', ann_file='places365_val.txt',
             data_prefix='val_large'),
)
