"""A parameter-free stand-in first stage: the ground truth, Gaussian-blurred.

Used to test and demonstrate second stages (refiners such as DGRL's BRN) without training a
detector first: the "detector" returns a deliberately degraded map whose boundaries a refiner
has to recover from the image (chosen; salbox issue 4, DGRL synthetic configs).
"""
import math
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from salbox.registry import MODELS
from salbox.structures import SalDataSample
from .base import BaseSalDetector


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, 1, H, W) maps, radius ceil(3 sigma), edge replication."""
    if sigma <= 0:
        return maps
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-x.pow(2) / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    out = F.pad(maps, (radius, radius, 0, 0), mode='replicate')
    out = F.conv2d(out, kernel.view(1, 1, 1, -1))
    out = F.pad(out, (0, 0, radius, radius), mode='replicate')
    return F.conv2d(out, kernel.view(1, 1, -1, 1))


@MODELS.register_module()
class BlurredGroundTruth(BaseSalDetector):
    """First stage that returns ``gaussian_blur(gt_sal_map, sigma)`` (needs the GT at test too).

    It has no parameters, so a :class:`RefinedDetector` built on it needs no
    ``first_stage_checkpoint``. ``sigma`` is in pixels of the map it is given (the training
    input size in ``loss``/``_forward``, the original size in ``predict``).

    Args:
        sigma: Gaussian std in pixels (chosen default 3).
        data_preprocessor: as any detector (default ``SalDataPreProcessor``).
    """

    align_corners = False
    eps = 1e-4

    def __init__(self, sigma: float = 3.0, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='SalDataPreProcessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.sigma = float(sigma)

    @staticmethod
    def _gt(sample: SalDataSample) -> torch.Tensor:
        if 'gt_sal_map' not in sample:
            raise ValueError('BlurredGroundTruth needs gt_sal_map in every data sample (load '
                             'the masks in the pipeline); missing for '
                             f'{sample.metainfo.get("img_path")}')
        return sample.gt_sal_map.data

    def blurred(self, gt: torch.Tensor) -> torch.Tensor:
        """(..., 1, H, W) ground truth -> blurred map of the same shape."""
        shape = gt.shape
        return gaussian_blur(gt.reshape(-1, 1, *shape[-2:]).float(), self.sigma).view(shape)

    def _forward(self, inputs: torch.Tensor,
                 data_samples: Sequence[SalDataSample] = None) -> List[torch.Tensor]:
        """One logit map at the input size: logit(blur(gt)), the GT resized to the input."""
        if not data_samples:
            raise ValueError('BlurredGroundTruth needs data samples with gt_sal_map')
        gts = []
        for sample in data_samples:
            gt = self._gt(sample)[None].to(inputs.device)
            if gt.shape[-2:] != inputs.shape[-2:]:
                gt = F.interpolate(gt, size=inputs.shape[-2:], mode='bilinear',
                                   align_corners=False)
            gts.append(gt)
        maps = self.blurred(torch.cat(gts)).clamp(self.eps, 1 - self.eps)
        return [torch.logit(maps).to(inputs.dtype)]

    def loss(self, inputs, data_samples):
        raise RuntimeError('BlurredGroundTruth has nothing to train; use it as the first stage '
                           'of a RefinedDetector')

    def predict(self, inputs: torch.Tensor,
                data_samples: Sequence[SalDataSample] = None) -> List[SalDataSample]:
        """``pred_sal_map`` = the blurred GT at the GT's (original) size."""
        if not data_samples:
            raise ValueError('BlurredGroundTruth needs data samples with gt_sal_map')
        for sample in data_samples:
            sample.pred_sal_map = PixelData(data=self.blurred(self._gt(sample)).clamp(0, 1))
        return list(data_samples)
