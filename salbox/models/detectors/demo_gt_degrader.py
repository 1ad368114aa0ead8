"""A demo and test stand-in, not a detector: it reads the ground truth at test time.

``GroundTruthDegrader`` returns the ground truth, Gaussian-blurred, as if it were a first stage's
prediction. It lets a second stage (a refiner such as DGRL's BRN) be trained and demonstrated on
synthetic data without training a detector first: the degraded map's boundaries must be
recovered from the image (chosen for ``configs/dgrl/dgrl_brn_synthetic.py``; see
``configs/dgrl/README.md``). Its maps are worthless on real data, where no ground truth exists at
test time, and its metrics measure only the refiner.
"""
import math
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

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
class GroundTruthDegrader(BaseSalDetector):
    """Stand-in first stage that returns ``gaussian_blur(gt_sal_map, sigma)`` (it needs the GT at
    test time too, so it is only for synthetic demos and tests).

    It has no parameters, so a :class:`RefinedDetector` built on it needs no
    ``first_stage_checkpoint``. ``sigma`` is in pixels of the network input (the GT is resized
    to the input size first); ``predict`` goes through the shared ``postprocess_result``.

    Args:
        sigma: Gaussian std in pixels (chosen default 3).
        data_preprocessor: as any detector (default ``SalDataPreProcessor``).
    """

    eps = 1e-4

    def __init__(self, sigma: float = 3.0, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.sigma = float(sigma)

    @staticmethod
    def _gt(sample: SalDataSample) -> torch.Tensor:
        if 'gt_sal_map' not in sample:
            raise ValueError('GroundTruthDegrader needs gt_sal_map in every data sample (load '
                             'the masks in the pipeline); missing for '
                             f'{sample.metainfo.get("img_path")}')
        return sample.gt_sal_map.data

    def blurred(self, gt: torch.Tensor) -> torch.Tensor:
        """(..., 1, H, W) ground truth -> blurred map of the same shape."""
        shape = gt.shape
        return gaussian_blur(gt.reshape(-1, 1, *shape[-2:]).float(), self.sigma).view(shape)

    def _forward(self, inputs: torch.Tensor,
                 data_samples: Sequence[SalDataSample] = None) -> List[torch.Tensor]:
        """One logit map at the (padded) input size: logit(blur(gt)), the GT resized to each
        sample's ``img_shape`` (in the pipeline's flip orientation) and padded."""
        if not data_samples:
            raise ValueError('GroundTruthDegrader needs data samples with gt_sal_map')
        size = tuple(inputs.shape[-2:])
        gts = []
        for sample in data_samples:
            gt = self._gt(sample)[None].to(inputs.device).float()
            h, w = tuple(sample.metainfo.get('img_shape', size))[:2]
            if gt.shape[-2:] == size and (h, w) != size:  # already padded (training batches)
                gt = gt[..., :h, :w]
            if tuple(gt.shape[-2:]) != (h, w):
                gt = F.interpolate(gt, size=(h, w), mode='bilinear', align_corners=False)
            gts.append(F.pad(gt, (0, size[1] - w, 0, size[0] - h)))
        maps = self.blurred(torch.cat(gts)).clamp(self.eps, 1 - self.eps)
        return [torch.logit(maps).to(inputs.dtype)]

    def loss(self, inputs, data_samples):
        raise RuntimeError('GroundTruthDegrader has nothing to train; use it as the first stage '
                           'of a RefinedDetector')
