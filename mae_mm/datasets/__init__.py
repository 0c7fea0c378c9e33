"""Data-side components: image loading and annotation checks, and the GPU decode path."""
from .transforms import BadImageError, CheckSegLabels, IgnoreInstancesWithoutMask, LoadCheckedImage  # noqa: F401
from .gpu_decode import (JpegDecodeDataPreprocessor, LoadJpegBytes, PackJpegBytes, RandomFlipParams,  # noqa: F401
                         RandomResizedCropParams)
