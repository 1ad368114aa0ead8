"""The second-stage contract: what a refiner is, and the adapter that makes one a post-processor.

A refiner takes an image and a first-stage map (the prior) and returns a better map:

* training, batched: ``forward(images, priors) -> logits`` with ``images`` (N, 3, H, W) float
  RGB in 0-255 (the data preprocessor's batch, un-normalised: ``denormalize(inputs)``),
  ``priors`` (N, 1, H, W) in [0, 1] at that size, ``logits`` (N, 1, H, W);
* test, one image at its original size: ``refine(image, prior) -> (logits, map)`` with
  ``image`` uint8 RGB (3, H, W) (the sample's ``ori_img``), ``prior`` (1, H, W) in [0, 1]
  at the image's size; both outputs (1, H, W) at that size, ``map`` in [0, 1]. A refiner that
  runs at a fixed size resizes in and out itself.

``RefinedDetector`` uses nothing else (``forward`` to train, ``refine`` to test), and every
post-processor (``BasePostProcessor.refine``) answers ``refine`` too. ``RefinerPostProcessor``
puts any refiner in a detector's ``postprocessors=[...]``:

    postprocessors=[dict(type='RefinerPostProcessor', refiner=dict(type='BoundaryRefinementNet'))]

A new refiner is one file (subclass :class:`BaseRefiner`, register it in ``MODELS``) plus a
config (docs/add_module.md).
"""
from typing import Tuple, Union

import torch
import torch.nn as nn

from salbox.models.postprocessors.base import BasePostProcessor, check_image_and_map
from salbox.registry import MODELS


class BaseRefiner(nn.Module):
    """Base of the trainable second stages; see the module docstring for the contract."""

    def forward(self, images: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def refine(self, image: torch.Tensor, prior: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    @staticmethod
    def check_batch(name: str, images: torch.Tensor, priors: torch.Tensor) -> None:
        """``images`` (N, 3, H, W) and ``priors`` (N, 1, H, W) of the same N, H, W."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f'{name}: images must be (N, 3, H, W), got {tuple(images.shape)}')
        if priors.dim() != 4 or priors.shape[1] != 1 or \
                priors.shape[-2:] != images.shape[-2:] or priors.shape[0] != images.shape[0]:
            raise ValueError(f'{name}: priors must be (N, 1, H, W) matching the images '
                             f'{tuple(images.shape)}, got {tuple(priors.shape)}')

    check_image_and_map = staticmethod(check_image_and_map)


@MODELS.register_module()
class RefinerPostProcessor(BasePostProcessor):
    """Any refiner as a post-processor: ``process(image, map)`` is ``refiner.refine(image,
    map)``'s map. Its weights are this module's (``postprocessors.<i>.refiner.*``)."""

    def __init__(self, refiner: Union[dict, nn.Module]):
        super().__init__()
        self.refiner = refiner if isinstance(refiner, nn.Module) else MODELS.build(refiner)
        if not callable(getattr(self.refiner, 'refine', None)):
            raise TypeError(f'RefinerPostProcessor: {type(self.refiner).__name__} has no '
                            'refine(image, prior) (subclass salbox.models.refiners.BaseRefiner)')

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        return self.refiner.refine(image, sal_map)[1]
