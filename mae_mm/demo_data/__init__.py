"""The embedded demo data sets the README's first command trains on, in the real data sets' layouts.

One module per data set (:mod:`.imagenet`, :mod:`.coco`, :mod:`.ade20k`), each with its
``CLASSES``, ``SPLIT_SIZES``, ``VERSION`` and a ``make_<name>(out, seed)`` that writes it;
:func:`.make.make_all` writes all three (``tools/make_demo_data.py``). Torch-free: numpy, Pillow
and the photographs matplotlib ships.
"""
