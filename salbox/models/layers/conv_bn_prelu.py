"""R3Net's basic block: Conv2d -> BatchNorm2d -> PReLU."""
from typing import Optional

from torch import nn


class ConvBNPReLU(nn.Sequential):
    """Conv (with bias, PyTorch's default) -> BN -> PReLU with one shared slope.

    Every conv of R3Net's L/H integration, ASPP and RRBs is built this way in the official
    ``model.py`` (``nn.Conv2d, nn.BatchNorm2d, nn.PReLU()``; paper §3.2
    names the PReLU). Children are named ``conv``, ``bn``, ``prelu``.

    Args:
        padding: defaults to ``dilation * (kernel_size - 1) // 2`` ("same" size).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 dilation: int = 1, padding: Optional[int] = None):
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding,
                              dilation=dilation)
        self.bn = nn.BatchNorm2d(out_channels)
        self.prelu = nn.PReLU()
