"""Loading that refuses bad images loudly; checks of segmentation labels and COCO masks.

``LoadCheckedImage`` is mmcv's ``LoadImageFromFile`` (same decode backends, same keys) plus
checks around the decode, so that every image either becomes a 3-channel uint8 BGR array of
what the file shows, or fails with ``BadImageError('<file>: <reason>')``:

================================  ==========================================================
file                              result
================================  ==========================================================
zero-byte, not an image, garbage  error (mmcv: a bare ``AssertionError`` or an opaque cv2 one)
truncated JPEG or PNG             error; a file that does not end with its end marker is decoded
                                  once more by Pillow, which tells a cut file from one with
                                  trailing bytes after the marker (those load)
grayscale, palette, 1-bit         replicated to 3 channels
RGBA                              alpha dropped (as ``PIL.Image.convert('RGB')``, torchvision)
LA (gray + alpha)                 alpha dropped by cv2; mmcv's pillow path composites it over
                                  the colour (124, 117, 104)
CMYK JPEG                         RGB by the decoder's CMYK conversion (Adobe inversion
                                  handled); an embedded ICC profile is not applied
16-bit grayscale                  scaled by 255 / 65535 (Pillow alone would clip it to 255)
16-bit RGB(A)                     the decoders' own 8-bit reduction
32-bit integer beyond 16 bits,    error: no meaningful 8-bit scale
float pixels
EXIF orientation                  applied (both ``cv2`` and ``pillow`` backends)
================================  ==========================================================

Limit: a JPEG cut inside its entropy-coded data that still ends with an end-of-image marker
decodes with a grey bottom in every decoder (libjpeg only prints "premature end of data
segment" to stderr); it is not detected.

With ``on_error='skip'`` a bad file is logged as a warning, appended to the run's
``skipped_images.txt`` (the transform's ``skip_record``, which
:class:`~mae_mm.engine.SkippedImagesHook` sets and counts) and the transform returns None, so
that mmengine's ``BaseDataset`` fetches another sample in its place (up to its
``max_refetch``). In test mode mmengine refuses None and raises.
"""
import io
import logging
import os.path as osp
from typing import Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine.logging import MMLogger, print_log
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..registry import TRANSFORMS
from .reduced_decode import decode_reduced_jpeg, dct_reduction, reducible_jpeg

# The name of a run's skip record, in its log folder.
SKIPPED_IMAGES_FILE = 'skipped_images.txt'

_JPEG_EOI = b'\xff\xd9'
_PNG_IEND = b'IEND\xaeB`\x82'
_HIGH_DEPTH_GRAY = ('I;16', 'I;16L', 'I;16B', 'I;16N', 'I')


class BadImageError(ValueError):
    """An image file that cannot be turned into the picture it stores."""

    def __init__(self, filename: str, reason: Optional[str] = None):
        # one argument: the whole message (how torch re-raises a worker's exception)
        super().__init__(filename if reason is None else f'{filename}: {reason}')
        self.filename, self.reason = filename, reason


def skipped_images_file(record: Optional[str] = None) -> Optional[str]:
    """Where skip records go: ``record`` when given, else ``skipped_images.txt`` next to the current
    MMLogger's log file; None when neither is known."""
    if record:
        return record
    log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
    return osp.join(osp.dirname(log_file), SKIPPED_IMAGES_FILE) if log_file else None


def record_skip(filename: str, reason: str, record: Optional[str] = None) -> None:
    """Logs a skipped file and appends ``<file>\\t<reason>`` to the skip record
    (:func:`skipped_images_file` of ``record``).

    Each record is one short ``write`` to a file opened for appending, so records of several
    worker processes (or ranks sharing a file system) do not interleave within a line.
    """
    print_log(f'Skipped a bad image: {filename}: {reason}', logger='current', level=logging.WARNING)
    path = skipped_images_file(record)
    if path:
        line = f'{filename}\t{reason}'.replace('\n', ' ') + '\n'
        with open(path, 'a', encoding='utf-8') as f:
            f.write(line)


def _truncation(content: bytes, fmt: str) -> Optional[str]:
    """A reason if a JPEG or PNG stream is cut short, else None."""
    end = {'JPEG': _JPEG_EOI, 'PNG': _PNG_IEND}.get(fmt)
    if end is None or content[-4096:].rstrip(b'\x00\r\n ').endswith(end):
        return None
    # no end marker at the end: cut short, or trailing bytes after the marker; Pillow decodes
    # to the end of the data and raises on a cut file
    strict, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with Image.open(io.BytesIO(content)) as im:
            im.load()
    except OSError as e:
        return f'truncated {fmt} (no end marker; {e})'
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = strict
    return None


def _gray16_to_bgr(im: Image.Image, orient: bool) -> np.ndarray:
    """A 16-bit grayscale image as (H, W, 3) uint8, scaled by 255 / 65535."""
    if orient:
        im = ImageOps.exif_transpose(im)
    arr = np.asarray(im)
    if arr.min() < 0 or arr.max() > 65535:
        raise ValueError(f'{im.mode} pixels outside the 16-bit range [{arr.min()}, {arr.max()}]')
    return mmcv.gray2bgr(np.round(arr.astype(np.float32) * (255 / 65535)).astype(np.uint8))


@TRANSFORMS.register_module()
class LoadCheckedImage(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that never returns a silently wrong image.

    Output: ``img`` (H, W, 3) uint8 BGR (float32 with ``to_float32``), ``img_shape``,
    ``ori_shape``, as mmcv's. See the module docstring for what happens to each kind of file.

    Args:
        on_error (str): ``'raise'`` (default): a bad file raises :class:`BadImageError`
            naming it and the reason. ``'skip'``: log a warning, append the file to
            ``skip_record`` and return None (mmengine's datasets then draw another sample in
            training, and refuse in test mode).
        color_type (str): ``'color'`` (EXIF orientation applied) or
            ``'color_ignore_orientation'``; flags that give other than 3 channels are refused.
        imdecode_backend (str): mmcv's decode backend, ``'cv2'`` (default) or ``'pillow'``.
        min_short_edge (int, optional): None (default): every file decoded at full size. An int:
            a JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8; OpenCV's reduced decode)
            that keeps its short edge at least this long, e.g. 256 before a resize of the short
            edge to 256 (:mod:`mae_mm.datasets.reduced_decode`); other files at full size.
        **kwargs: the rest of mmcv's ``LoadImageFromFile`` (``to_float32``, ``backend_args``).

    Attributes:
        skip_record (str, optional): The file skip records are appended to.
            :class:`~mae_mm.engine.SkippedImagesHook` sets it on the train dataset's loaders
            before training starts, before any data-loader worker exists, so that it travels
            with the dataset into forked and spawned workers alike. None (the default): the
            ``skipped_images.txt`` next to the current MMLogger's log file, if any.
    """

    def __init__(self, on_error: str = 'raise', color_type: str = 'color', min_short_edge: Optional[int] = None,
                 **kwargs) -> None:
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
        if color_type not in ('color', 'color_ignore_orientation'):
            raise ValueError(f"color_type must be 'color' or 'color_ignore_orientation', not {color_type!r}")
        if kwargs.get('ignore_empty'):
            raise ValueError("ignore_empty drops files silently; use on_error='skip'")
        if min_short_edge is not None and (not isinstance(min_short_edge, int) or min_short_edge < 1):
            raise ValueError(f'min_short_edge must be a positive int or None, not {min_short_edge!r}')
        super().__init__(color_type=color_type, **kwargs)
        self.on_error = on_error
        self.min_short_edge = min_short_edge
        self.skip_record: Optional[str] = None

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        img = self._checked(self._load, filename)
        if img is None:
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _checked(self, load, filename: str):
        """``load(filename)``; on any error a :class:`BadImageError` naming the file, raised, or with
        ``on_error='skip'`` logged, recorded and None returned."""
        try:
            return load(filename)
        except Exception as e:
            err = e if isinstance(e, BadImageError) else BadImageError(filename, f'{type(e).__name__}: {e}')
            if self.on_error == 'raise':
                raise err from e
            record_skip(filename, err.reason, self.skip_record)
            return None

    def _read(self, filename: str) -> bytes:
        if self.file_client_args is not None:
            return fileio.FileClient.infer_client(self.file_client_args, filename).get(filename)
        return fileio.get(filename, backend_args=self.backend_args)

    def _load(self, filename: str) -> np.ndarray:
        """(H, W, 3) uint8 BGR, or BadImageError."""
        content, probe = self._probe(filename)
        return self._decode(filename, content, probe, self._dct_reduction(probe))

    def _probe(self, filename: str):
        """The file's bytes and its parsed header (a lazy ``PIL.Image``), after the checks that need
        no decode: empty, unknown format, cut or malformed header, truncated JPEG or PNG."""
        content = self._read(filename)
        return content, self._parse(filename, content)

    def _parse(self, filename: str, content: bytes) -> Image.Image:
        """The header of a file's bytes, after the checks of :meth:`_probe`."""
        if not content:
            raise BadImageError(filename, 'zero-byte file')
        try:  # the header only: format, mode, size (Pillow also refuses decompression bombs here)
            probe = Image.open(io.BytesIO(content))
        except UnidentifiedImageError:
            raise BadImageError(filename, f'not a decodable image ({len(content)} bytes of unknown format)')
        except (OSError, SyntaxError) as e:  # Pillow's errors for a cut or malformed header
            raise BadImageError(filename, f'truncated or corrupt header ({e})')
        reason = _truncation(content, probe.format)
        if reason:
            raise BadImageError(filename, reason)
        return probe

    def _dct_reduction(self, probe: Image.Image) -> int:
        """1, or with ``min_short_edge`` the DCT scale denominator (2, 4 or 8) of a JPEG whose short
        edge stays at least ``min_short_edge`` at that scale."""
        if not self.min_short_edge or not reducible_jpeg(probe, self.imdecode_backend):
            return 1
        return dct_reduction(min(probe.size), self.min_short_edge)

    def _decode(self, filename: str, content: bytes, probe: Image.Image, reduction: int = 1) -> np.ndarray:
        """(H, W, 3) uint8 BGR of a probed file, a JPEG at 1/``reduction`` scale, or BadImageError."""
        orient = self.color_type == 'color'
        if probe.mode in _HIGH_DEPTH_GRAY:
            img = _gray16_to_bgr(probe, orient)
        elif probe.mode == 'F':
            raise BadImageError(filename, 'floating-point pixels: no 8-bit scale is implied')
        elif reduction > 1:
            img = decode_reduced_jpeg(content, reduction, orient)
        else:
            img = mmcv.imfrombytes(content, flag=self.color_type, backend=self.imdecode_backend)
        if img is None:
            raise BadImageError(filename, f'{self.imdecode_backend} could not decode this {probe.format} file '
                                          f'(corrupt data)')
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 or 0 in img.shape:
            raise BadImageError(filename, f'decoded to {img.dtype} {img.shape}, not (H, W, 3) uint8')
        return img

    def __repr__(self):
        return super().__repr__()[:-1] + f", on_error='{self.on_error}', min_short_edge={self.min_short_edge})"


@TRANSFORMS.register_module()
class CheckSegLabels(BaseTransform):
    """Refuses (or ignores) segmentation labels the head has no class for.

    Put right after mmseg's ``LoadAnnotations`` (after ``reduce_zero_label``). A seg map whose
    size differs from its image's always raises, naming both files. A label outside
    ``[0, num_classes)`` other than ``ignore_index`` would otherwise end in cross-entropy as an
    index error on CPU (a device-side assert on CUDA), or, with a class subset, be counted.

    Args:
        num_classes (int): the number of classes of the decode head.
        ignore_index (int): the label that contributes no loss. Defaults to 255.
        on_error (str): ``'raise'`` (default): ``ValueError`` naming the seg map file, the bad
            values and their pixel count. ``'ignore'``: set those pixels to ``ignore_index``
            and log a warning.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255, on_error: str = 'raise') -> None:
        if on_error not in ('raise', 'ignore'):
            raise ValueError(f"on_error must be 'raise' or 'ignore', not {on_error!r}")
        self.num_classes, self.ignore_index, self.on_error = num_classes, ignore_index, on_error

    def transform(self, results: dict) -> dict:
        seg = results['gt_seg_map']
        img = results.get('img')
        if img is not None and img.shape[:2] != seg.shape[:2]:
            raise ValueError(f"{results.get('img_path')}: the image is {img.shape[:2]} (H, W) but its seg map "
                             f"{results.get('seg_map_path')} is {seg.shape[:2]} (an EXIF orientation that the "
                             f'seg map does not have?)')
        bad = ((seg < 0) | (seg >= self.num_classes)) & (seg != self.ignore_index)
        if bad.any():
            msg = (f"{results.get('seg_map_path')}: labels {np.unique(seg[bad]).tolist()} at {int(bad.sum())} "
                   f'pixels are outside [0, {self.num_classes}) and not the ignore index {self.ignore_index}')
            if self.on_error == 'raise':
                raise ValueError(msg)
            print_log(msg + '; set to the ignore index', logger='current', level=logging.WARNING)
            seg = seg.copy()
            seg[bad] = self.ignore_index
            results['gt_seg_map'] = seg
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f"ignore_index={self.ignore_index}, on_error='{self.on_error}')")


@TRANSFORMS.register_module()
class IgnoreInstancesWithoutMask(BaseTransform):
    """Gives COCO instances with ``"segmentation": []`` the ignored fake mask mmdet intends.

    mmdet's ``CocoDataset`` stores no ``mask`` for an empty segmentation list, and its
    ``LoadAnnotations(with_mask=True)`` then fails with a bare ``KeyError: 'mask'``; for every
    other unusable polygon (``[[]]``, fewer than 3 points) it ignores the instance and uses a fake
    mask. This sets ``mask=[]`` on such instances so they take that same path. Put it right
    before ``LoadAnnotations`` in pipelines that load masks.
    """

    def transform(self, results: dict) -> dict:
        for instance in results.get('instances', []):
            instance.setdefault('mask', [])
        return results
