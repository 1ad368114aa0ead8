"""Fixtures for dataset tests: small image/mask folders written on the fly."""
import os
import os.path as osp
import types

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope


def write_image(path: str, height: int = 12, width: int = 16, value: int = 90) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = np.full((height, width, 3), value, np.uint8)
    img[:, :width // 2, 0] = 200
    assert cv2.imwrite(path, img)
    return path


def write_mask(path: str, height: int = 12, width: int = 16, array=None) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if array is None:
        array = np.zeros((height, width), np.uint8)
        array[2:-2, 3:-3] = 255
        array[2, 3] = 128
    assert cv2.imwrite(path, array)
    return path


def make_pairs(root: str, stems, img_dir: str = 'images', gt_dir: str = 'masks',
               img_suffix: str = '.jpg', mask_suffix: str = '.png') -> None:
    for stem in stems:
        write_image(osp.join(root, img_dir, stem + img_suffix))
        write_mask(osp.join(root, gt_dir, stem + mask_suffix))


@pytest.fixture
def sal_files():
    """Helpers that write small image/mask files."""
    return types.SimpleNamespace(write_image=write_image, write_mask=write_mask,
                                 make_pairs=make_pairs)


@pytest.fixture(autouse=True)
def salbox_scope():
    init_default_scope('salbox')
