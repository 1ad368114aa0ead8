"""Robust image decoding: one function every loader and tool uses, with errors that name the file.

``decode_image(path, mode, apply_exif_orientation, what)`` decodes with OpenCV (by content: the
file extension is never trusted) and turns every way a file can be bad into a one-line
``DataError`` naming it, or into a documented conversion (see ``docs/bad_input.md``):

* missing file, zero-byte file, not an image -> ``DataError``;
* truncated JPEG or PNG -> ``DataError`` (libjpeg would otherwise fill the missing rows with
  grey and only print a warning);
* a JPEG whose compressed data is damaged (libjpeg decodes it to garbage with a warning) ->
  ``DataError``: every JPEG is also decoded by Pillow at 1/8 scale, which refuses it;
* a file that cannot be opened (permission denied, a symbolic-link loop) -> ``DataError``;
* more pixels than ``max_image_pixels()`` (default 40 MP, environment variable
  ``SALBOX_MAX_IMAGE_PIXELS``), read from the header before anything is decoded -> ``DataError``
  with the size (a 12000 x 9000 photo would take 324 MB as BGR and seconds to decode);
* grey, palette, RGBA, CMYK, 16-bit: ``'color'`` gives 3-channel 8-bit BGR (palette expanded,
  alpha dropped, CMYK converted by libjpeg, 16-bit divided by 256), ``'grey'`` 8-bit grey
  (ITU-R 601 luma), ``'unchanged'`` the stored channels and depth (8/16-bit, 1/3/4 channels);
* EXIF orientation: applied only when ``apply_exif_orientation=True`` (same result as Pillow's
  ``ImageOps.exif_transpose``); otherwise the stored pixel grid is returned.
"""
import errno
import io
import os
import os.path as osp
import struct
import warnings
from typing import Optional, Tuple

import cv2
import numpy as np

from .errors import DataError

# The photo formats salbox reads from folders (datasets, priors, salbox infer, tools/infer.py).
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

MAX_PIXELS_ENV = 'SALBOX_MAX_IMAGE_PIXELS'
DEFAULT_MAX_PIXELS = 40_000_000
MODES = ('color', 'grey', 'unchanged')
_CV2_MODES = {'color': cv2.IMREAD_COLOR, 'grey': cv2.IMREAD_GRAYSCALE,
              'unchanged': cv2.IMREAD_UNCHANGED}
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
_JPEG_MAGIC = b'\xff\xd8'
_EXIF_ORIENTATION = 0x0112


def max_image_pixels() -> int:
    """The largest image (width x height) salbox decodes: ``SALBOX_MAX_IMAGE_PIXELS`` or 40 MP."""
    value = os.environ.get(MAX_PIXELS_ENV)
    if not value:
        return DEFAULT_MAX_PIXELS
    try:
        return int(float(value))
    except ValueError:
        raise DataError(f'{MAX_PIXELS_ENV}={value!r} is not a number of pixels') from None


def _open_problem(path: str, what: str, err: OSError) -> DataError:
    """One line for a file that exists in the folder listing but cannot be read."""
    if err.errno == errno.ELOOP:
        return DataError(f'{what} file {path} is a symbolic link loop')
    if osp.islink(path) and not osp.exists(path):
        return DataError(f'{what} file {path} is a broken symbolic link (to '
                         f'{os.readlink(path)})')
    return DataError(f'{what} file {path} cannot be read: {err.strerror or err}')


def _fromfile(path: str, what: str, count: int = -1) -> np.ndarray:
    if not osp.isfile(path):
        try:
            os.stat(path)
        except OSError as err:
            if err.errno == errno.ELOOP or osp.islink(path):
                raise _open_problem(path, what, err) from None
        raise DataError(f'{what} file not found: {path}')
    try:
        return np.fromfile(path, dtype=np.uint8, count=count)
    except OSError as err:  # permission denied, I/O error
        raise _open_problem(path, what, err) from None


# tools/infer.py's memory for one photo (benchmarks/bench_infer_memory.py, DenseCRF and the
# cut-out included, the network at its bounded test size): a fixed part (libraries, model,
# network, one DenseCRF tile) and a part per pixel of the photo (the decoded photo, the map and
# its copies at full size).
INFER_FIXED_BYTES = 1.3 * 2**30
INFER_BYTES_PER_PIXEL = 22


def too_large_message(path: str, what: str, size: Tuple[int, int], limit: int) -> str:
    """The refusal of a ``size`` = (width, height) image above ``limit`` pixels: the variable
    that sets the limit, what decoding takes, what ``tools/infer.py`` would take in all, and
    the setting that would admit it."""
    width, height = size
    pixels = width * height
    digits = 10 ** (len(str(pixels)) - 2)
    admit = -(-pixels // digits) * digits  # rounded up to two significant digits
    total = (INFER_FIXED_BYTES + INFER_BYTES_PER_PIXEL * pixels) / 2**30
    return (f'{what} file {path} is {width}x{height} ({pixels / 1e6:.0f} MP), above the '
            f'{limit / 1e6:.0f} MP limit of {MAX_PIXELS_ENV} (decoding it takes '
            f'{pixels * 3 / 2**20:.0f} MB; tools/infer.py needs about {total:.1f} GB in all); '
            f'downscale it or set {MAX_PIXELS_ENV}={admit:.2g}')


def _read_bytes(path: str, what: str) -> np.ndarray:
    data = _fromfile(path, what)
    if data.size == 0:
        raise DataError(f'{what} file {path} is empty (0 bytes)')
    return data


def _pil_image(data: np.ndarray):
    """A lazily opened Pillow image (header only), or ``None`` if Pillow cannot identify it."""
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # DecompressionBombWarning: we check the size
            return Image.open(io.BytesIO(data.tobytes()))
    except Image.DecompressionBombError:
        return 'too large'
    except Exception:  # Pillow raises several types for what it does not know
        return None


def header_size(data: np.ndarray) -> Optional[Tuple[int, int]]:
    """(width, height) from the header of encoded image bytes, or ``None`` if unknown."""
    head = data[:24].tobytes()
    if head.startswith(_PNG_MAGIC) and head[12:16] == b'IHDR':
        return struct.unpack('>II', head[16:24])
    image = _pil_image(data)
    if image is None or isinstance(image, str):
        return None
    return image.size


_HEADER_BYTES = 1 << 16  # PNG/BMP headers, and JPEG headers with their EXIF block, fit


def _read_head(path: str, what: str) -> np.ndarray:
    """The first 64 kB of a file (the whole file if smaller), with the same errors."""
    data = _fromfile(path, what, _HEADER_BYTES)
    if data.size == 0:
        raise DataError(f'{what} file {path} is empty (0 bytes)')
    return data


def _header_size_of_file(path: str, what: str) -> Tuple[Tuple[int, int], np.ndarray]:
    """((width, height), the bytes read) from a file's header; ``DataError`` naming it."""
    data = _read_head(path, what)
    size = header_size(data)
    if size is None and data.size == _HEADER_BYTES:
        data = _read_bytes(path, what)
        size = header_size(data)
    if size is None:
        raise DataError(f'cannot read the {what} header of {path}: not an image or an '
                        'unsupported format')
    return tuple(size), data


def image_size_raw(path: str, what: str = 'image') -> Tuple[int, int]:
    """(height, width) of the stored pixel grid, from the file header (the first 64 kB; the
    whole file when a longer header needs it): the size ``decode_image(...,
    apply_exif_orientation=False)`` returns (masks, maps, priors). ``DataError`` naming the
    file if it cannot be read."""
    (width, height), _ = _header_size_of_file(path, what)
    return height, width


def image_size_oriented(path: str, what: str = 'image') -> Tuple[int, int]:
    """(height, width) after the EXIF orientation (swapped for orientations 5-8), from the
    header: the size ``decode_image(..., apply_exif_orientation=True)`` returns (images, as
    ``LoadSalImageFromFile`` decodes them)."""
    (width, height), data = _header_size_of_file(path, what)
    return (width, height) if exif_orientation(data) >= 5 else (height, width)


def exif_orientation(data: np.ndarray) -> int:
    """The EXIF orientation tag (1-8) of encoded image bytes; 1 when absent."""
    image = _pil_image(data)
    if image is None or isinstance(image, str):
        return 1
    try:
        value = int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # a malformed EXIF block: ignore it, as viewers do
        return 1
    return value if 1 <= value <= 8 else 1


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a stored pixel grid (H, W[, C]) upright for an EXIF orientation value (1-8)."""
    if orientation == 2:
        image = image[:, ::-1]
    elif orientation == 3:
        image = image[::-1, ::-1]
    elif orientation == 4:
        image = image[::-1]
    elif orientation == 5:
        image = image.swapaxes(0, 1)
    elif orientation == 6:
        image = np.rot90(image, -1)
    elif orientation == 7:
        image = image.swapaxes(0, 1)[::-1, ::-1]
    elif orientation == 8:
        image = np.rot90(image, 1)
    return np.ascontiguousarray(image)


def _jpeg_problem(data: np.ndarray) -> Optional[str]:
    """Why a JPEG that OpenCV decoded is bad, or ``None``: libjpeg only warns about damaged
    entropy-coded data (and fills missing rows with grey), so every JPEG is also decoded by
    Pillow, which refuses such files. Pillow decodes at 1/8 scale (``draft``, DCT scaling):
    every coefficient is still Huffman-decoded, so damage is found at a fraction of the cost
    (docs/bad_input.md)."""
    tail = data[-64:].tobytes().rstrip(b'\x00\r\n\t ')
    truncated = not tail.endswith(b'\xff\xd9')
    image = _pil_image(data)
    if image is None or isinstance(image, str):
        return 'truncated' if truncated else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            image.draft(image.mode, (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
            image.load()
    except Exception as err:  # OSError('broken data stream ...'), ('image file is truncated')
        return 'truncated' if truncated else str(err).strip().splitlines()[0]
    return None


def decode_image(path: str, mode: str = 'color', apply_exif_orientation: bool = False,
                 what: str = 'image', max_pixels: Optional[int] = None) -> np.ndarray:
    """Decode an image file; every failure is a ``DataError`` whose one line names the file.

    Args:
        path: the file. Its extension is ignored (a PNG named ``.jpg`` decodes as a PNG).
        mode: ``'color'`` -> (H, W, 3) uint8 BGR; ``'grey'`` -> (H, W) uint8;
            ``'unchanged'`` -> the stored channels and depth (uint8 or uint16).
        apply_exif_orientation: rotate/flip the pixels as the EXIF orientation tag says.
        what: the word used in messages (``'image'``, ``'mask'``, ``'map'``).
        max_pixels: refuse larger images (default ``max_image_pixels()``).
    """
    if mode not in MODES:
        raise ValueError(f'decode mode must be one of {MODES}, got {mode!r}')
    data = _read_bytes(path, what)
    limit = max_image_pixels() if max_pixels is None else max_pixels
    size = header_size(data)
    if size is not None and size[0] * size[1] > limit:
        raise DataError(too_large_message(path, what, size, limit))
    is_jpeg = data[:2].tobytes() == _JPEG_MAGIC
    flags = _CV2_MODES[mode]
    if mode != 'unchanged':
        flags |= cv2.IMREAD_IGNORE_ORIENTATION
    image = cv2.imdecode(data, flags)
    if image is None:
        kind = 'JPEG' if is_jpeg else 'PNG' if data[:8].tobytes() == _PNG_MAGIC else None
        reason = f'a corrupt or truncated {kind}' if kind else 'corrupt or not an image'
        raise DataError(f'cannot decode {what} file {path}: {reason}')
    problem = _jpeg_problem(data) if is_jpeg else None
    if problem == 'truncated':
        raise DataError(f'cannot decode {what} file {path}: a truncated JPEG (the data stops '
                        'before the end-of-image marker)')
    if problem is not None:
        raise DataError(f'cannot decode {what} file {path}: a corrupt JPEG (its compressed data '
                        f'is damaged; Pillow: {problem})')
    if apply_exif_orientation:
        image = apply_orientation(image, exif_orientation(data))
    return image
