"""Pack a pipeline's results into model inputs and a ``SalDataSample``."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from salbox.registry import TRANSFORMS
from salbox.structures import SalDataSample
from salbox.utils.errors import SalboxError

def to_tensor(array: np.ndarray) -> torch.Tensor:
    """``torch.from_numpy`` of a C-contiguous copy. ``np.ascontiguousarray`` keeps a view
    when every reversed axis has length 1 (a 1-pixel image flipped by test-time augmentation),
    and torch refuses its negative strides; such arrays are copied."""
    array = np.ascontiguousarray(array)
    if any(stride < 0 for stride in array.strides):
        array = array.copy()
    return torch.from_numpy(array)


DEFAULT_META_KEYS = ('img_path', 'gt_path', 'dataset_name', 'ori_shape', 'img_shape',
                     'scale_factor', 'flip', 'flip_direction')


@TRANSFORMS.register_module()
class PackSalInputs(BaseTransform):
    """Modelled on MMSeg's ``PackSegInputs`` (``mmseg/datasets/transforms/formatting.py``), but
    the ground truth stays a float map: ``gt_sal_map`` becomes ``PixelData(data=float32 (1, H, W))``
    instead of an int64 label map (soft MSRA10K masks are real).

    Returns ``dict(inputs=tensor (3, H, W) of the image's dtype (uint8 BGR), data_samples=
    SalDataSample)``. Meta keys that are absent from the results are skipped (as in MMSeg).

    With ``keep_ori_img=True`` the decoded original image (``results['ori_img']``, set by
    ``LoadSalImageFromFile``, BGR) is packed as ``data_sample.ori_img = PixelData(data=uint8
    tensor (3, H, W) RGB)``: post-processors (DenseCRF, MIPromoter), refiners (BRN), the panel
    hook and ``tools/infer.py`` take the image from there. Every test pipeline sets it; training
    pipelines leave it off (it would only cost memory).

    Args:
        meta_keys (Sequence[str]): copied into the sample's metainfo. Default
            ``('img_path', 'gt_path', 'dataset_name', 'ori_shape', 'img_shape', 'scale_factor',
            'flip', 'flip_direction')``.
        keep_ori_img (bool): pack the original image into the sample. Default False.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS,
                 keep_ori_img: bool = False) -> None:
        self.meta_keys = tuple(meta_keys)
        self.keep_ori_img = bool(keep_ori_img)

    @staticmethod
    def pack_ori_img(results: dict) -> PixelData:
        """``results['ori_img']`` (H, W, 3) BGR or (H, W) gray -> PixelData uint8 (3, H, W) RGB."""
        img = results.get('ori_img')
        if img is None:
            raise SalboxError(
                f'PackSalInputs(keep_ori_img=True): no ori_img in the results of '
                f'{results.get("img_path") or "an in-memory image"} (load the image with '
                'LoadSalImageFromFile, or set results["ori_img"] for an in-memory image)')
        img = np.asarray(img)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        if img.dtype != np.uint8:
            img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        return PixelData(data=to_tensor(img[:, :, 2::-1].transpose(2, 0, 1)))

    def transform(self, results: dict) -> dict:
        packed = dict()
        img = results.get('img')
        if img is not None:
            if img.ndim == 2:
                img = img[:, :, None]
            packed['inputs'] = to_tensor(img.transpose(2, 0, 1))
        sample = SalDataSample()
        mask = results.get('gt_sal_map')
        if mask is not None:
            data = to_tensor(np.asarray(mask, dtype=np.float32)[None])
            sample.gt_sal_map = PixelData(data=data)
        if self.keep_ori_img:
            sample.ori_img = self.pack_ori_img(results)
        sample.set_metainfo({key: results[key] for key in self.meta_keys if key in results})
        packed['data_samples'] = sample
        return packed

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(meta_keys={self.meta_keys}, '
                f'keep_ori_img={self.keep_ori_img})')
