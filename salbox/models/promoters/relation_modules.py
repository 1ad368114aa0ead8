"""Building blocks of the LDPS relation model (Chen et al., AAAI 2020, Sec. 4 and Fig. 2).

Every number follows the official code, ``ouc-ocean-group/LDPS`` at commit 81a609d:
``lib/module/merge.py`` (tap fusion), ``lib/module/base.py`` (``ConvBlock``, ``ASPPBlock``,
``ResidualStage``) and ``lib/module/mi_module.py`` (the discriminator).
"""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import nn


def fuse_taps(feats: Sequence[torch.Tensor], align_corners: bool = True) -> torch.Tensor:
    """Multi-scale fusion (paper Sec. 4.1): every tap bilinearly resized to the first
    (highest-resolution, stride-2) tap and concatenated deepest first, as ``MergeModule`` does
    for the MobileNetV2 taps [17, 13, 3, 0] -> 320 + 96 + 24 + 32 = 472 channels."""
    size = feats[0].shape[-2:]
    resized = [f if f.shape[-2:] == size else
               F.interpolate(f, size=size, mode='bilinear', align_corners=align_corners)
               for f in feats]
    return torch.cat(resized[::-1], dim=1)


class ConvBlock(nn.Sequential):
    """Conv -> BN -> optional PReLU (one shared slope): the official ``ConvBlock``.
    Children ``conv``, ``bn``, ``act``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 dilation: int = 1, bias: bool = False, act: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                              padding=dilation * (kernel_size - 1) // 2, dilation=dilation,
                              bias=bias)
        self.bn = nn.BatchNorm2d(out_channels)
        if act:
            self.act = nn.PReLU()


class RelationASPP(nn.Module):
    """The official ``ASPPBlock``: a reduction (1x1 C->C, 3x3 C->out, 1x1 out->out), four
    parallel out->out branches (1x1; 3x3 with dilation 6, 12, 18), concatenation and a 1x1
    fuse to ``out_channels`` (32, paper Sec. 4.1). No image-pooling branch; convs without bias.
    """

    def __init__(self, in_channels: int, out_channels: int = 32,
                 dilations: Sequence[int] = (6, 12, 18)):
        super().__init__()
        self.reduce = nn.Sequential(ConvBlock(in_channels, in_channels, 1),
                                    ConvBlock(in_channels, out_channels, 3),
                                    ConvBlock(out_channels, out_channels, 1))
        self.branches = nn.ModuleList([ConvBlock(out_channels, out_channels, 1)] + [
            ConvBlock(out_channels, out_channels, 3, dilation=d) for d in dilations])
        self.fuse = ConvBlock(out_channels * (len(dilations) + 1), out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduce(x)
        return self.fuse(torch.cat([branch(x) for branch in self.branches], dim=1))


class ResidualBlock(nn.Module):
    """3x3 ConvBlock (bias, PReLU) -> 3x3 ConvBlock (bias, no activation) + identity; no
    activation after the addition (official ``ResidualBlock`` with stride 1, equal widths)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvBlock(channels, channels, 3, bias=True)
        self.conv2 = ConvBlock(channels, channels, 3, bias=True, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


class FeatureTransformer(nn.Sequential):
    """A residual stage of ``num_blocks`` (3) blocks: the official ``ResidualStage(32, 32, 3,
    stride=1)``, used twice (``certain_transformer`` for the anchor, ``all_transformer`` for
    every pixel)."""

    def __init__(self, channels: int = 32, num_blocks: int = 3):
        super().__init__(*[ResidualBlock(channels) for _ in range(num_blocks)])


class PairDiscriminator(nn.Sequential):
    """The discriminator F of Eq. 5, applied densely to [anchor, pixel] pairs as 1x1 convs.

    ``num_layers=2`` is the released code (``mi_module.py``: 1x1 conv 2C->2C with bias, BN,
    PReLU, 1x1 conv 2C->1). ``num_layers=5`` is the paper's count (Sec. 5.3, "The discriminator
    consists of 5 convolutional layers"; its detailed layout is in a supplementary that is not
    available): chosen as four 1x1 conv-BN-PReLU layers of width ``hidden`` and a 1x1 conv to 1.
    Returns logits (the sigmoid is applied by the caller / folded into the loss).
    """

    def __init__(self, in_channels: int = 64, hidden: int = 64, num_layers: int = 2):
        if num_layers < 1:
            raise ValueError(f'PairDiscriminator: num_layers must be >= 1, got {num_layers}')
        layers: List[nn.Module] = []
        channels = in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Conv2d(channels, hidden, 1), nn.BatchNorm2d(hidden), nn.PReLU()]
            channels = hidden
        layers.append(nn.Conv2d(channels, 1, 1))
        super().__init__(*layers)
