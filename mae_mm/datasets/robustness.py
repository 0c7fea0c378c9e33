"""The robustness test sets in their published folder layouts, labelled in the classifier's classes.

- :class:`ClassFolderTestSet`: ``<data_root>/<class>/<image>``: ImageNet-A and ImageNet-R
  (``imagenet-a/<wnid>/*.jpg``, 200 of the 1000 wnids each), ImageNet-Sketch
  (``imagenet-sketch/sketch/<wnid>/*.JPEG``, all 1000).
- :class:`CorruptedTestSet`: ImageNet-C, ``<data_root>/<corruption>/<severity>/<wnid>/*.JPEG``
  (also read with the archives' family folders kept: ``<data_root>/noise/gaussian_noise/1/...``).

Every sample's label is its folder's index in ``classes``, the classifier's own class list
(``'imagenet-1k'``: the 1000 wnids in class-index order), and it carries ``domain`` (the set's
name; ImageNet-C's also ``corruption`` and ``severity``), which the robustness metrics
(:mod:`mae_mm.evaluation.robustness_metrics`) select their samples by. Pack them with
``PackInputs(meta_keys=(..., 'domain', 'corruption', 'severity'))``.

Refused when the set is built, naming the folder: class folders other than the expected ones
(the first differences), expected classes the classifier does not have, a folder without
images. A corruption or severity missing from an ImageNet-C copy is logged and left out: the
metric reports it as missing.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset

from mae_mm.registry import DATASETS
from .class_lists import class_list

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.tif', '.tiff', '.webp')


def _images(folder: str) -> List[str]:
    return sorted(e.name for e in os.scandir(folder) if e.is_file() and e.name.lower().endswith(IMAGE_EXTENSIONS))


def _subfolders(folder: str) -> List[str]:
    return sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith('.'))


def _first(names: Sequence[str], k: int = 5) -> str:
    names = list(names)
    return ', '.join(names[:k]) + (f' ... ({len(names)} in all)' if len(names) > k else '')


def check_class_folders(folder: str, found: Sequence[str], expected: Sequence[str], classes: Sequence[str]) -> None:
    """Refuses ``found`` class folders of ``folder`` other than ``expected``, and ``expected``
    names that the classifier's ``classes`` lack, naming the first differences."""
    lacking = [c for c in expected if c not in set(classes)]
    if lacking:
        raise ValueError(f'{folder}: the classifier\'s {len(classes)} classes do not cover this set\'s: it lacks '
                         f'{_first(lacking)}')
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or unexpected:
        parts = ([f'missing {_first(missing)}'] if missing else []) + \
                ([f'unexpected {_first(unexpected)}'] if unexpected else [])
        raise ValueError(f'{folder}: its class folders are not the {len(expected)} expected ones: '
                         f'{"; ".join(parts)}')


class _LabelledFolders(BaseDataset):
    """A test set of class folders labelled by their index in ``classes``."""

    def __init__(self, data_root: str, domain: str, classes: Union[str, Sequence[str]] = 'imagenet-1k',
                 expected: Union[None, str, Sequence[str]] = None, pipeline: Sequence = (), **kwargs) -> None:
        self.domain = domain
        self.classifier_classes = class_list(classes)
        self.expected = self.classifier_classes if expected is None else class_list(expected)
        super().__init__(ann_file='', data_root=data_root, pipeline=pipeline, test_mode=True,
                         metainfo=dict(classes=self.classifier_classes), **kwargs)

    def _samples(self, folder: str, extra: Dict) -> List[Dict]:
        """The samples of the class folders of ``folder``, checked against the expected classes."""
        index = {name: i for i, name in enumerate(self.classifier_classes)}
        found = _subfolders(folder)
        check_class_folders(folder, found, self.expected, self.classifier_classes)
        samples = []
        for name in found:
            images = _images(osp.join(folder, name))
            if not images:
                raise ValueError(f'{osp.join(folder, name)}: no images ({"/".join(IMAGE_EXTENSIONS)})')
            samples += [dict(img_path=osp.join(folder, name, image), gt_label=index[name], domain=self.domain, **extra)
                        for image in images]
        return samples


@DATASETS.register_module()
class ClassFolderTestSet(_LabelledFolders):
    """``<data_root>/<class>/<image>`` (ImageNet-A, -R, -Sketch), labelled in ``classes``.

    Args:
        data_root: The set's folder (e.g. ``data/imagenet-a``).
        domain: The set's name, carried by every sample (``imagenet-a``).
        classes: The classifier's classes, in index order: a published list's name
            (``'imagenet-1k'``) or the names.
        expected: The class folders the set must have (``'imagenet-a'``, ``'imagenet-r'``, names);
            None: all of ``classes``.
        pipeline: The test transforms.
    """

    def load_data_list(self) -> List[Dict]:
        return self._samples(self.data_root, {})


@DATASETS.register_module()
class CorruptedTestSet(_LabelledFolders):
    """ImageNet-C's ``<data_root>/<corruption>/<severity>/<class>/<image>``, labelled in ``classes``.

    Args:
        data_root: The set's folder (``data/imagenet-c``), corruption folders at its top or under
            their family folders (``noise/``, ``blur/``, ``weather/``, ``digital/``, ``extra/``).
        corruptions: The corruptions to read; one absent is logged and left out.
        severities: The severities to read; one absent is logged and left out.
        domain, classes, expected, pipeline: as :class:`ClassFolderTestSet`; every severity folder
            must hold the expected class folders.
    """

    def __init__(self, data_root: str, corruptions: Sequence[str], severities: Sequence[int] = (1, 2, 3, 4, 5),
                 domain: str = 'imagenet-c', **kwargs) -> None:
        self.corruptions, self.severities = tuple(corruptions), tuple(severities)
        super().__init__(data_root=data_root, domain=domain, **kwargs)

    def _corruption_folder(self, corruption: str) -> Optional[str]:
        from mae_mm.evaluation.imagenet_c_reference import FAMILIES

        candidates = [osp.join(self.data_root, corruption)]
        candidates += [osp.join(self.data_root, family, corruption) for family, members in FAMILIES.items()
                       if corruption in members]
        return next((c for c in candidates if osp.isdir(c)), None)

    def load_data_list(self) -> List[Dict]:
        if not osp.isdir(self.data_root):
            raise FileNotFoundError(f'{self.data_root}: no such folder (ImageNet-C)')
        samples, absent = [], []
        for corruption in self.corruptions:
            folder = self._corruption_folder(corruption)
            for severity in self.severities:
                level = osp.join(folder, str(severity)) if folder else None
                if level is None or not osp.isdir(level):
                    absent.append(f'{corruption}/{severity}')
                    continue
                samples += self._samples(level, dict(corruption=corruption, severity=severity))
        if absent:
            MMLogger.get_current_instance().warning(
                f'{self.data_root}: {len(absent)} corruption/severity folders absent, reported as missing: '
                f'{_first(absent, 10)}')
        if not samples:
            raise ValueError(f'{self.data_root}: none of the corruptions {list(self.corruptions)} at severities '
                             f'{list(self.severities)} is there (expected <corruption>/<severity>/<class>/)')
        return samples
