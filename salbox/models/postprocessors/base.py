"""Test-time post-processors: map-to-map steps run after a detector's sigmoid.

Every post-processor takes the original RGB image and the saliency map at the original size and
returns a map of the same size (DESIGN.md, data flow): ``forward(image, sal_map)`` with
``image`` a uint8 tensor (3, H, W) in RGB order and ``sal_map`` a float tensor (1, H, W) in [0, 1].
They are ``nn.Module`` so learned ones (the MI promoter) keep their weights in the detector's
state dict; parameter-free ones simply have none.
"""
import torch
import torch.nn as nn


class BasePostProcessor(nn.Module):
    """Base class: validates the pair and calls :meth:`process`."""

    def forward(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        if image.dim() != 3 or image.shape[0] != 3:
            raise ValueError(f'{type(self).__name__}: image must be (3, H, W), '
                             f'got {tuple(image.shape)}')
        if sal_map.dim() != 3 or sal_map.shape[0] != 1:
            raise ValueError(f'{type(self).__name__}: saliency map must be (1, H, W), '
                             f'got {tuple(sal_map.shape)}')
        if image.shape[-2:] != sal_map.shape[-2:]:
            raise ValueError(f'{type(self).__name__}: image {tuple(image.shape[-2:])} and map '
                             f'{tuple(sal_map.shape[-2:])} differ in size')
        out = self.process(image, sal_map)
        return out.to(device=sal_map.device, dtype=sal_map.dtype)

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
