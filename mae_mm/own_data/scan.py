"""What a folder of a user's images holds: the images a pipeline can read, and everything else.

A file is an image by its extension, in any case (``IMAGE_EXTENSIONS``, the ones
:class:`mae_mm.datasets.LoadCheckedImage` decodes through OpenCV or Pillow). Hidden files and
folders (``.DS_Store``, ``.git/``) and every other file (``Thumbs.db``, ``notes.txt``, ``.gif``) are
counted, by extension, and skipped.
"""
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import List

from .errors import OwnDataError

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.ppm', '.pgm', '.tif', '.tiff', '.webp')
FIRST_NAMES = 5  # files named in a message


def extension_of(name: str) -> str:
    """``'.jpg'`` for ``'A.JPG'``; a dot file or a name without one is its own kind (``'.DS_Store'``, ``'Thumbs.db'`` -> ``'.db'``)."""
    base = osp.basename(name)
    if base.startswith('.') and base.count('.') == 1:
        return base
    ext = osp.splitext(base)[1].lower()
    return ext or '(no extension)'


@dataclass
class FolderScan:
    """A folder's files, recursively, in sorted order of their paths relative to ``root``.

    Attributes:
        root: the folder scanned.
        images: relative paths of the image files.
        image_kinds: image count per extension (lower case).
        others: relative paths of the files skipped.
        other_kinds: skipped count per extension (``'.DS_Store'`` for dot files).
    """
    root: str
    images: List[str] = field(default_factory=list)
    image_kinds: Counter = field(default_factory=Counter)
    others: List[str] = field(default_factory=list)
    other_kinds: Counter = field(default_factory=Counter)

    def found(self) -> str:
        """What the folder holds, for a message: ``'12 files: .gif 10, .txt 2 (a.gif, b.gif, ...)'``."""
        total = len(self.images) + len(self.others)
        if not total:
            return 'no file at all'
        kinds = self.image_kinds + self.other_kinds
        names = (self.images + self.others)[:FIRST_NAMES]
        more = ', ...' if total > FIRST_NAMES else ''
        return (f'{total} file{"s" if total > 1 else ""}: ' + ', '.join(f'{k} {n}' for k, n in kinds.most_common())
                + f' ({", ".join(names)}{more})')

    def skipped(self) -> str:
        """The files skipped, for the log: ``'3 files that are not images skipped (.txt 1, ...)'``, or ''."""
        if not self.others:
            return ''
        kinds = ', '.join(f'{k} {n}' for k, n in self.other_kinds.most_common())
        return f'{len(self.others)} file{"s" if len(self.others) > 1 else ""} that are not images skipped ({kinds})'


def scan_folder(root: str) -> FolderScan:
    """Every file under ``root`` (links followed), split into images and others; ``root`` must be a folder."""
    scan = FolderScan(root=root)
    for folder, subfolders, files in os.walk(root, followlinks=True):
        hidden = [d for d in subfolders if d.startswith('.')]
        for name in hidden:
            subfolders.remove(name)
        subfolders.sort()
        rel = osp.relpath(folder, root)
        for name in sorted(files):
            path = name if rel == '.' else osp.join(rel, name)
            ext = extension_of(name)
            if ext in IMAGE_EXTENSIONS and not name.startswith('.'):
                scan.images.append(path)
                scan.image_kinds[ext] += 1
            else:
                scan.others.append(path)
                scan.other_kinds[ext] += 1
    return scan


def require_folder(path: str, what: str, layouts: str) -> None:
    """Raises :class:`OwnDataError` when ``path`` is not a folder: ``what`` names its role."""
    if not osp.exists(path):
        raise OwnDataError(f'{what} {path} does not exist; {layouts}')
    if not osp.isdir(path):
        raise OwnDataError(f'{what} {path} is a file, not a folder; {layouts}')


def scan_images(root: str, what: str, layouts: str) -> FolderScan:
    """:func:`scan_folder` of ``root``, refused with what it holds when it holds no image."""
    require_folder(root, what, layouts)
    scan = scan_folder(root)
    if not scan.images:
        raise OwnDataError(f'{what} {root} holds no image ({scan.found()}); images are '
                           f'{"/".join(e[1:] for e in IMAGE_EXTENSIONS)} in any case; {layouts}')
    return scan
