"""TopDownHead: a small feature-pyramid decoder for saliency (an example plugin head).

A 1x1 lateral convolution brings every backbone stage to ``channels``; going from the
coarsest stage to the finest, the running feature is upsampled, added to the next lateral and
smoothed by a 3x3 convolution (the top-down pathway of FPN, Lin et al., CVPR 2017, Sec. 3).
A 1x1 classifier after every step gives one logit map per stage, coarsest first: the detector
supervises all of them (deep supervision) and predicts with the last, finest one.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from salbox.registry import MODELS


@MODELS.register_module()
class TopDownHead(nn.Module):
    """Args:
        in_channels: channels of the backbone outputs it receives, finest first
            (e.g. ResNet-18 stem..layer4: ``(64, 64, 128, 256, 512)``).
        channels: width of the decoder.
    """

    def __init__(self, in_channels: Sequence[int], channels: int = 32):
        super().__init__()
        self.in_channels = tuple(int(c) for c in in_channels)
        self.laterals = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in self.in_channels)
        self.smooths = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                          nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
            for _ in self.in_channels)
        self.classifiers = nn.ModuleList(nn.Conv2d(channels, 1, 1) for _ in self.in_channels)

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'TopDownHead: got {len(feats)} feature maps, expected '
                             f'{len(self.in_channels)} (in_channels={self.in_channels})')
        logits, running = [], None
        for i in reversed(range(len(feats))):
            lateral = self.laterals[i](feats[i])
            if running is not None:
                lateral = lateral + F.interpolate(running, size=lateral.shape[-2:],
                                                  mode='bilinear', align_corners=False)
            running = self.smooths[i](lateral)
            logits.append(self.classifiers[i](running))
        return logits  # coarsest first; the last (finest) is the prediction
