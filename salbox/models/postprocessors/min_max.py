"""Min-max normalisation of a saliency map, the last step of U²-Net's official test script."""
import torch

from salbox.registry import MODELS
from .base import BasePostProcessor


@MODELS.register_module()
class MinMaxNormalize(BasePostProcessor):
    """``(map - min) / (max - min)`` per image: U²-Net's ``normPRED`` (official
    ``u2net_test.py``, applied to the fused map ``d0`` before it is saved). A constant map is
    returned unchanged (the official code divides by zero there).

    salbox applies it at the original image size, after the bilinear resize of the logits and
    the sigmoid; the official script normalises the 320x320 map and then resizes the 8-bit image
    with PIL (configs/u2net/README.md).
    """

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        low, high = sal_map.min(), sal_map.max()
        if not high > low:
            return sal_map
        return (sal_map - low) / (high - low)
