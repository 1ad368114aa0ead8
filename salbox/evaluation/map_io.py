"""Reading and writing 8-bit saliency maps, and matching map files to masks by name."""
import os.path as osp
from typing import Dict

import numpy as np

from salbox.utils.atomic_file import atomic_write_image
from salbox.utils.image_io import decode_image
from salbox.utils.pairing import files_by_stem
from .functional.prepare import to_uint8


def read_map(path: str, what: str = 'map') -> np.ndarray:
    """Read a grey map as uint8 (colour files are converted, as PySODMetrics' examples do).

    Decoded by ``salbox.utils.image_io.decode_image`` (mode ``'grey'``, EXIF ignored: the
    stored grid, as the header size): a missing, empty, truncated or oversized file raises a
    ``DataError`` naming it; 16-bit files are divided by 256, palette and RGBA files become
    grey (ITU-R 601 luma, alpha dropped).
    """
    return decode_image(path, 'grey', apply_exif_orientation=False, what=what)


def write_map(path: str, saliency) -> str:
    """Write a [0, 1] float (or uint8) map as an 8-bit PNG, ``rint(255 * p)``, atomically
    (``salbox.utils.atomic_file``: a full disk or a kill never leaves a partial map); a failed
    write raises ``OSError``."""
    saliency = np.asarray(saliency)
    if saliency.ndim == 3 and saliency.shape[0] == 1:
        saliency = saliency[0]
    return atomic_write_image(path, to_uint8(saliency))


def list_maps(folder: str, suffix: str = '.png') -> Dict[str, str]:
    """``{stem: path}`` of the files in ``folder`` whose names end with ``suffix``.

    The stem is the name without the suffix, so ``suffix='_sal.png'`` matches ``0001_sal.png``
    to the mask ``0001.png``.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder not found: {folder}')
    return {stem: osp.join(folder, name) for stem, name in files_by_stem(folder, suffix).items()}
