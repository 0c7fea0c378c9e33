"""Published class lists, one name per line: the classifier's classes and the robustness sets' subsets.

- ``imagenet-1k``: the 1000 ImageNet-1k wnids in class-index order (sorted; index 0 is n01440764,
  the order of mmpretrain's ``IMAGENET_CATEGORIES`` names and of every ImageNet classifier);
- ``imagenet-a``: ImageNet-A's 200 wnids (Hendrycks et al., CVPR 2021, hendrycks/natural-adv-examples);
- ``imagenet-r``: ImageNet-R's 200 wnids (Hendrycks et al., ICCV 2021, hendrycks/imagenet-r).

The lists are copied as data from timm's ``timm/data/_info`` (Apache-2.0), which carries the
published ones.
"""
import os.path as osp
from functools import lru_cache
from typing import Sequence, Tuple, Union

NAMES = ('imagenet-1k', 'imagenet-a', 'imagenet-r')


@lru_cache(maxsize=None)
def _read(name: str) -> Tuple[str, ...]:
    with open(osp.join(osp.dirname(__file__), f'{name}.txt')) as f:
        return tuple(line.strip() for line in f if line.strip())


def class_list(spec: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """``spec`` as a tuple of class names: one of :data:`NAMES`, or the names themselves."""
    if isinstance(spec, str):
        if spec not in NAMES:
            raise ValueError(f'class list {spec!r}: not one of the published lists {list(NAMES)}; give the names '
                             'as a list instead')
        return _read(spec)
    return tuple(spec)
