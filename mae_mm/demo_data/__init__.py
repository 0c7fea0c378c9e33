"""The embedded demo data sets the README's first command trains on, in the real data sets' layouts.

One module per data set (:mod:`.imagenet`, :mod:`.imagenet_c`, :mod:`.imagenet_r`, :mod:`.coco`,
:mod:`.ade20k`, :mod:`.inat`), each with its ``VERSION`` (most also ``CLASSES`` and
``SPLIT_SIZES``) and a ``make_<name>(out, seed)`` that writes it; :func:`.make.make_all` writes
them all (``tools/make_demo_data.py``), the ImageNet-C and -R stand-ins from the demo ImageNet's
validation images. Torch-free: numpy, Pillow, OpenCV (the corruptions) and the photographs
matplotlib ships.
"""
