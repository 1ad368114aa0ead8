"""Atrous spatial pyramid pooling as R3Net's official ``_ASPP`` builds it."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .conv_bn_prelu import ConvBNPReLU


class ASPP(nn.Module):
    """DeepLabv3-style ASPP of R3Net's H branch (official ``model.py`` ``_ASPP``,
    zijundeng/R3Net).

    Five branches of ``branch_channels`` each: a 1x1 CBP, 3x3 CBPs with ``dilations``
    (2, 4, 6), and image pooling (global average -> 1x1 CBP -> bilinear upsample,
    ``align_corners=True``); concatenated and fused by a 1x1 CBP to ``out_channels``.

    Args:
        in_channels: input channels (256 in R3Net).
        branch_channels: defaults to ``in_channels // 2`` (official ``down_dim = in_dim / 2``).
        out_channels: defaults to ``in_channels``.
        dilations: rates of the 3x3 branches (official: 2, 4, 6).
    """

    def __init__(self, in_channels: int, branch_channels: Optional[int] = None,
                 out_channels: Optional[int] = None, dilations: Sequence[int] = (2, 4, 6),
                 align_corners: bool = True):
        super().__init__()
        branch_channels = branch_channels or in_channels // 2
        out_channels = out_channels or in_channels
        self.align_corners = align_corners
        self.conv1x1 = ConvBNPReLU(in_channels, branch_channels, kernel_size=1)
        self.dilated = nn.ModuleList(
            ConvBNPReLU(in_channels, branch_channels, kernel_size=3, dilation=d)
            for d in dilations)
        self.image_pool = ConvBNPReLU(in_channels, branch_channels, kernel_size=1)
        self.fuse = ConvBNPReLU(branch_channels * (len(dilations) + 2), out_channels,
                                kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.image_pool(F.adaptive_avg_pool2d(x, 1))
        pooled = F.interpolate(pooled, size=x.shape[-2:], mode='bilinear',
                               align_corners=self.align_corners)
        branches = [self.conv1x1(x)] + [conv(x) for conv in self.dilated] + [pooled]
        return self.fuse(torch.cat(branches, dim=1))
