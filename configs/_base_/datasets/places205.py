# Places205 (Zhou et al., NeurIPS 2014; places.csail.mit.edu/downloadData.html): 205 scene categories,
# 2,448,873 train and 20,500 val images (100 a category). Under data/places205/, as the archives unpack:
#   trainvalsplit_places205/{train,val}_places205.csv         <- trainvalsplit_places205.tar.gz
#       lines "a/abbey/00000000.jpg 0": a path under images256/ and its label
#   data/vision/torralba/deeplearning/images256/<letter>/<category>/<n>.jpg  <- imagesPlaces205_resize.tar.gz
# mmpretrain's Places205 reads these lists as they are (its class names, the same file layout as
# mmselfsup's Places205 benchmark config).
# The data sets only: a fine-tune leaf inherits its size's ImageNet config (pipelines, loaders,
# evaluator) and this file, and puts these data sets in its loaders (docs/classification_transfer.md).
transfer_data = dict(
    imports=dict(imports=['mae_mm.runtime'], allow_failed_imports=False),
    num_classes=205,
    # epochs of this set per ImageNet-1k epoch (1,281,167 images) at the same number of iterations
    epoch_scale=1281167 / 2448873,
    train=dict(type='Places205', data_root='data/places205/', ann_file='trainvalsplit_places205/train_places205.csv',
               data_prefix='data/vision/torralba/deeplearning/images256'),
    val=dict(type='Places205', data_root='data/places205/', ann_file='trainvalsplit_places205/val_places205.csv',
             data_prefix='data/vision/torralba/deeplearning/images256'),
)
