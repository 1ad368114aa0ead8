"""Reading and writing 8-bit saliency maps, and matching map files to masks by name."""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np

from .functional.prepare import to_uint8

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def read_map(path: str) -> np.ndarray:
    """Read a grey map as uint8 (colour files are converted, as PySODMetrics' examples do)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'map file not found: {path}')
    saliency = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if saliency is None:
        raise ValueError(f'cannot read {path} as an image')
    return saliency


def write_map(path: str, saliency) -> str:
    """Write a [0, 1] float (or uint8) map as an 8-bit PNG, ``rint(255 * p)``."""
    saliency = np.asarray(saliency)
    if saliency.ndim == 3 and saliency.shape[0] == 1:
        saliency = saliency[0]
    directory = osp.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    if not cv2.imwrite(path, to_uint8(saliency)):
        raise OSError(f'cannot write the map {path}')
    return path


def image_size(path: str) -> Tuple[int, int]:
    """(height, width) of an image file, read from its header when possible."""
    try:
        from PIL import Image
        with Image.open(path) as image:
            width, height = image.size
        return height, width
    except Exception:  # pragma: no cover - PIL missing or an exotic format
        return read_map(path).shape[:2]


def list_maps(folder: str, suffix: str = '.png') -> Dict[str, str]:
    """``{stem: path}`` of the files in ``folder`` whose names end with ``suffix``.

    The stem is the name without the suffix, so ``suffix='_sal.png'`` matches ``0001_sal.png``
    to the mask ``0001.png``.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder not found: {folder}')
    maps = {}
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if name.lower().endswith(suffix.lower()) and osp.isfile(path):
            maps[name[:len(name) - len(suffix)]] = path
    return maps
