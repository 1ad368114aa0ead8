"""Pack a pipeline's results into model inputs and a ``SalDataSample``."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from salbox.registry import TRANSFORMS
from salbox.structures import SalDataSample

DEFAULT_META_KEYS = ('img_path', 'gt_path', 'dataset_name', 'ori_shape', 'img_shape',
                     'scale_factor', 'flip', 'flip_direction')


@TRANSFORMS.register_module()
class PackSalInputs(BaseTransform):
    """Modelled on MMSeg's ``PackSegInputs`` (``mmseg/datasets/transforms/formatting.py``), but
    the ground truth stays a float map: ``gt_sal_map`` becomes ``PixelData(data=float32 (1, H, W))``
    instead of an int64 label map (soft MSRA10K masks are real).

    Returns ``dict(inputs=tensor (3, H, W) of the image's dtype (uint8 BGR), data_samples=
    SalDataSample)``. Meta keys that are absent from the results are skipped (as in MMSeg).

    Args:
        meta_keys (Sequence[str]): copied into the sample's metainfo. Default
            ``('img_path', 'gt_path', 'dataset_name', 'ori_shape', 'img_shape', 'scale_factor',
            'flip', 'flip_direction')``.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        packed = dict()
        img = results.get('img')
        if img is not None:
            if img.ndim == 2:
                img = img[:, :, None]
            packed['inputs'] = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = SalDataSample()
        mask = results.get('gt_sal_map')
        if mask is not None:
            data = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32)[None])
            sample.gt_sal_map = PixelData(data=data)
        sample.set_metainfo({key: results[key] for key in self.meta_keys if key in results})
        packed['data_samples'] = sample
        return packed

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
