"""LargestComponent: keep the largest salient region of a map (an example plugin
post-processor).

The salient pixels (``map >= threshold``) that are not in the largest 8-connected component
of that set are multiplied by ``suppress`` (0: removed), so small false detections away from
the main object disappear; every other pixel, soft values below the threshold included, is
left as it is.
"""
import cv2
import numpy as np
import torch

from salbox.models.postprocessors.base import BasePostProcessor
from salbox.registry import MODELS


@MODELS.register_module()
class LargestComponent(BasePostProcessor):
    """Args:
        threshold: a pixel is salient when its map value is at least this.
        suppress: factor for the salient pixels outside the largest component (0 removes them).
    """

    def __init__(self, threshold: float = 0.5, suppress: float = 0.0):
        super().__init__()
        if not 0.0 <= suppress <= 1.0:
            raise ValueError(f'LargestComponent: suppress must be in [0, 1], got {suppress}')
        self.threshold = float(threshold)
        self.suppress = float(suppress)

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        binary = (sal_map[0] >= self.threshold).cpu().numpy().astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        if count <= 2:  # background only, or a single component: nothing to remove
            return sal_map
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        others = torch.from_numpy((labels > 0) & (labels != largest)).to(sal_map.device)
        weight = torch.where(others, torch.full_like(sal_map[0], self.suppress),
                             torch.ones_like(sal_map[0]))
        return sal_map * weight[None]
