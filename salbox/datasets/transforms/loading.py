"""Load an image (BGR uint8) and its saliency mask (float32 in [0, 1]) from files."""
import os.path as osp
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from salbox.registry import TRANSFORMS
from salbox.utils.errors import DataError

# EXIF policy (one place for all of salbox): images are decoded with their EXIF orientation
# APPLIED, i.e. upright as an image viewer shows them and as an annotator drew the mask on them.
# Masks are decoded as stored (gray PNGs carry no orientation). See LoadSalImageFromFile.
_COLOR = cv2.IMREAD_COLOR
_UNCHANGED = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION


def read_image_file(path: str, flags: int, what: str = 'image') -> np.ndarray:
    """Decode ``path`` with OpenCV; a missing or undecodable file raises an error naming it."""
    if not osp.isfile(path):
        raise DataError(f'{what} file not found: {path}')
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, flags) if data.size else None
    if img is None:
        raise DataError(f'cannot decode {what} file {path}: empty, corrupt or not an image')
    return img


@TRANSFORMS.register_module()
class LoadSalImageFromFile(BaseTransform):
    """Load ``results['img_path']`` as an (H, W, 3) uint8 BGR image (mmcv ``LoadImageFromFile``
    conventions: sets ``img``, ``img_shape``, ``ori_shape``) and keep the decoded array as
    ``results['ori_img']`` (the same array, no copy) so ``PackSalInputs(keep_ori_img=True)`` can
    hand the original image to post-processors, visualisation and ``tools/infer.py``. The file is
    decoded here once; nothing downstream reads it again.

    EXIF policy (chosen, the only one in salbox): the EXIF orientation tag is **applied**, so the
    image is the upright picture an image viewer shows and an annotator drew the mask on; a
    rotated phone photo is predicted upright, and post-processors, panels and cut-outs all see
    the same pixels as the network. (R3Net's PIL loading ignores EXIF; the benchmark images carry
    no orientation tag, so their pixels are the same either way.) A mask that does not match
    the oriented image but matches it transposed raises a ``DataError`` saying so
    (:class:`LoadSalAnnotation`). See docs/datasets.md.

    Gray and 16-bit files become 3-channel 8-bit. An unreadable file raises ``DataError``
    naming it.

    Args:
        to_float32 (bool): return float32 instead of uint8. Default False.
    """

    def __init__(self, to_float32: bool = False) -> None:
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        img = read_image_file(results['img_path'], _COLOR, 'image')
        results['ori_img'] = img
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(to_float32={self.to_float32})'


def mask_to_float(mask: np.ndarray, path: str = '<array>', binary_01_masks: bool = False
                  ) -> np.ndarray:
    """Gray/RGB(A), 8/16-bit mask -> (H, W) float32 in [0, 1]; never binarised.

    Colour masks become gray with the ITU-R 601 luma weights (what PIL's ``convert('L')`` does in
    R3Net's loader); the alpha channel is dropped as PIL does.
    """
    if mask.ndim == 3:
        if mask.shape[2] == 4:
            mask = mask[:, :, :3]
        mask = cv2.cvtColor(mask, cv2.COLOR_BGR2GRAY) if mask.shape[2] == 3 else mask[:, :, 0]
    if mask.dtype == np.uint8:
        if mask.max() == 1 and not binary_01_masks:
            raise DataError(f'mask {path} holds only 0/1 values (a label map, not a 0-255 gray '
                            'mask); rescale it to 0/255 or set binary_01_masks=True')
        scale = 1.0 if binary_01_masks else 255.0
    elif mask.dtype == np.uint16:
        scale = 65535.0
    elif mask.dtype in (np.float32, np.float64):
        scale = 1.0
    else:
        raise DataError(f'mask {path} has unsupported pixel type {mask.dtype}')
    return np.clip(mask.astype(np.float32) / scale, 0.0, 1.0)


@TRANSFORMS.register_module()
class LoadSalAnnotation(BaseTransform):
    """Load ``results['gt_path']`` as ``gt_sal_map``: (H, W) float32 in [0, 1], gray / 255.

    Follows R3Net's ``ToTensor()`` of an 'L' mask (float /255, soft values kept, never
    binarised). 16-bit masks are divided by 65535, colour masks converted to gray. The mask
    must have the image's original size (``ori_shape``); otherwise ``DataError`` names both files.
    In test pipelines put this after any image ``Resize`` so metrics see the original GT.

    Args:
        binary_01_masks (bool): the masks store labels 0/1 instead of gray 0/255 (such masks
            are refused by default, because /255 would make them nearly empty). Default False.
    """

    def __init__(self, binary_01_masks: bool = False) -> None:
        self.binary_01_masks = binary_01_masks

    def transform(self, results: dict) -> dict:
        path = results['gt_path']
        mask = mask_to_float(read_image_file(path, _UNCHANGED, 'mask'), path,
                             self.binary_01_masks)
        ori_shape: Optional[tuple] = results.get('ori_shape')
        if ori_shape is not None and tuple(mask.shape[:2]) != tuple(ori_shape[:2]):
            if tuple(mask.shape[:2]) == tuple(ori_shape[:2])[::-1]:
                raise DataError(
                    f'mask {path} is {mask.shape[0]}x{mask.shape[1]} (H x W) but image '
                    f'{results.get("img_path", "?")} is {ori_shape[0]}x{ori_shape[1]} after its '
                    'EXIF orientation is applied: the mask matches the transposed image, so it '
                    'was drawn on the unrotated pixels; rotate the mask or strip the EXIF '
                    'orientation tag from the image (docs/datasets.md)')
            raise DataError(
                f'mask {path} is {mask.shape[0]}x{mask.shape[1]} (H x W) but image '
                f'{results.get("img_path", "?")} is {ori_shape[0]}x{ori_shape[1]}')
        results['gt_sal_map'] = mask
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(binary_01_masks={self.binary_01_masks})'
