"""Test-time post-processors: map-to-map steps run after a detector's sigmoid.

One interface for post-processors and test-time refiners: a subclass implements
``process(image, sal_map) -> map`` with ``image`` a uint8 tensor (3, H, W) in RGB order at the
original image size (the sample's ``ori_img``) and ``sal_map`` a float tensor (1, H, W) in
[0, 1] of the same size; it returns (1, H, W) in [0, 1]. A detector runs its
``postprocessors=[...]`` in order through :meth:`BasePostProcessor.postprocess` (docs/config.md,
"Data flow"). They are ``nn.Module`` so learned ones (a promoter, a refiner wrapped by
``RefinerPostProcessor``) keep their weights in the detector's state dict; parameter-free ones
(DenseCRF) simply have none.
"""
import torch
import torch.nn as nn


EPS = 1e-6  # logit(map) of a post-processor's output: maps clamped to [EPS, 1 - EPS]


def check_image_and_map(name: str, image: torch.Tensor, sal_map: torch.Tensor) -> None:
    """The test-time pair every post-processor and refiner takes: ``image`` uint8 RGB
    (3, H, W) and ``sal_map`` (1, H, W) of the same size; a clear error naming ``name``."""
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f'{name}: image must be (3, H, W), got {tuple(image.shape)}')
    if image.dtype != torch.uint8:
        raise ValueError(f'{name}: image must be uint8 RGB, got {image.dtype}')
    if sal_map.dim() != 3 or sal_map.shape[0] != 1:
        raise ValueError(f'{name}: saliency map must be (1, H, W), '
                         f'got {tuple(sal_map.shape)}')
    if image.shape[-2:] != sal_map.shape[-2:]:
        raise ValueError(f'{name}: image {tuple(image.shape[-2:])} and map '
                         f'{tuple(sal_map.shape[-2:])} differ in size')


class BasePostProcessor(nn.Module):
    """Base class: :meth:`postprocess` validates the pair and calls :meth:`process`.

    :meth:`refine` is the test-time half of the second-stage contract
    (``salbox.models.refiners.BaseRefiner``): ``(logits, map)``, so a post-processor can stand
    where a refiner's test step is expected. Detectors call :meth:`postprocess`."""

    def postprocess(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        check_image_and_map(type(self).__name__, image, sal_map)
        out = self.process(image, sal_map)
        return out.to(device=sal_map.device, dtype=sal_map.dtype)

    def refine(self, image: torch.Tensor, prior: torch.Tensor):
        """``(logit(map), map)`` of :meth:`postprocess`, both (1, H, W)."""
        sal_map = self.postprocess(image, prior)
        return torch.logit(sal_map.clamp(EPS, 1 - EPS)), sal_map

    def forward(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        return self.postprocess(image, sal_map)

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
