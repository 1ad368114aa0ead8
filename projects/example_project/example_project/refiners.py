"""An example trainable second stage: a small residual refiner on (image, first-stage map).

It follows salbox's second-stage contract (``salbox.models.refiners.BaseRefiner``):
``forward(images, priors) -> logits`` to train (batched, images float RGB 0-255) and
``refine(image, prior) -> (logits, map)`` to test (one uint8 RGB image at its original size).
Train it behind any frozen first stage with ``type='RefinedDetector'``
(``configs/residual_refiner_synthetic.py``), or run a trained one after any detector with
``postprocessors=[dict(type='RefinerPostProcessor', refiner=dict(type='ResidualRefiner'))]``.
"""
import torch
import torch.nn as nn

from salbox.models.refiners import BaseRefiner
from salbox.registry import MODELS


@MODELS.register_module()
class ResidualRefiner(BaseRefiner):
    """logit(prior) + a correction predicted from the image and the prior by a few 3x3 convs.

    The last conv starts at zero, so an untrained refiner returns its prior.

    Args:
        channels: width of the hidden convs.
        num_convs: number of hidden 3x3 convs (ReLU after each).
    """

    def __init__(self, channels: int = 16, num_convs: int = 3):
        super().__init__()
        layers, width = [], 4  # RGB / 255 and the prior
        for _ in range(num_convs):
            layers += [nn.Conv2d(width, channels, 3, padding=1), nn.ReLU(inplace=True)]
            width = channels
        self.body = nn.Sequential(*layers)
        self.correction = nn.Conv2d(width, 1, 3, padding=1)
        nn.init.zeros_(self.correction.weight)
        nn.init.zeros_(self.correction.bias)

    def forward(self, images: torch.Tensor, priors: torch.Tensor) -> torch.Tensor:
        self.check_batch(type(self).__name__, images, priors)
        priors = priors.to(images.dtype).clamp(1e-4, 1 - 1e-4)
        x = torch.cat([images / 255, priors], dim=1)
        return torch.logit(priors) + self.correction(self.body(x))

    @torch.no_grad()
    def refine(self, image: torch.Tensor, prior: torch.Tensor):
        self.check_image_and_map(type(self).__name__, image, prior)
        weight = self.correction.weight
        logits = self(image[None].to(weight), prior[None].to(weight))[0]
        return logits.to(prior.dtype), logits.sigmoid().to(prior.dtype)
