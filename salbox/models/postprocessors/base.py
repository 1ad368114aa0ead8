"""Test-time post-processors: map-to-map steps run after a detector's sigmoid.

One interface for post-processors and test-time refiners: a subclass implements
``process(image, sal_map) -> map`` with ``image`` a uint8 tensor (3, H, W) in RGB order at the
original image size (the sample's ``ori_img``) and ``sal_map`` a float tensor (1, H, W) in
[0, 1] of the same size; it returns (1, H, W) in [0, 1]. A detector runs its
``postprocessors=[...]`` in order through :meth:`BasePostProcessor.postprocess` (docs/config.md,
"Data flow"). They are ``nn.Module`` so learned ones (a BRN, a promoter) keep their weights in
the detector's state dict; parameter-free ones (DenseCRF) simply have none.
"""
import torch
import torch.nn as nn


class BasePostProcessor(nn.Module):
    """Base class: :meth:`postprocess` validates the pair and calls :meth:`process`.

    ``forward`` is :meth:`postprocess` unless a subclass needs ``forward`` for training (the BRN's
    batched logits); detectors always call :meth:`postprocess`."""

    def postprocess(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        name = type(self).__name__
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
        out = self.process(image, sal_map)
        return out.to(device=sal_map.device, dtype=sal_map.dtype)

    def forward(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        return self.postprocess(image, sal_map)

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
