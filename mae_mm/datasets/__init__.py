"""Data-side components: image loading and annotation checks.

The GPU decode path's transforms (:mod:`mae_mm.datasets.gpu_decode`, which imports mmpretrain)
are imported by the config that uses them (``custom_imports``).
"""
from .transforms import BadImageError, CheckSegLabels, IgnoreInstancesWithoutMask, LoadCheckedImage  # noqa: F401
from .crop_decode import DecodeRandomResizedCrop  # noqa: F401
from .per_sample_seed import PerSampleSeededPipeline, sample_seed  # noqa: F401
from .resumable_sampler import ResumableSampler  # noqa: F401
