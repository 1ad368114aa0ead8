"""R3Net's low-level (L) and high-level (H) feature integration."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from salbox.models.layers import ASPP, ConvBNPReLU
from salbox.registry import MODELS


def _resize_to(feature: torch.Tensor, size, align_corners: bool) -> torch.Tensor:
    if feature.shape[-2:] == size:
        return feature
    return F.interpolate(feature, size=size, mode='bilinear', align_corners=align_corners)


@MODELS.register_module()
class R3NetNeck(BaseModule):
    """L and H integration of R3Net (paper §3.2 Eq. 2-3; official ``reduce_low/high``).

    L: the ``low_indices`` features (F1-F3) are upsampled to the first one's size (stride 4),
    concatenated (64+256+512 = 832 ch) and fused by CBP 3x3 -> CBP 3x3 -> CBP 1x1 to
    ``channels``. H: the ``high_indices`` features (F4, F5) are upsampled to the first one's size
    (stride 16), concatenated (3072 ch), fused by CBP 3x3 -> CBP 3x3 -> ASPP, then upsampled to
    L's size. All resizes are bilinear with ``align_corners=True`` (official commit 93b8a34).
    Weights keep PyTorch's default init (official code; the paper says Gaussian).

    Args:
        in_channels: channels of every backbone output (ResNeXt/ResNet-50+:
            (64, 256, 512, 1024, 2048); ResNet-18/34: (64, 64, 128, 256, 512)).
        channels: width of L and H (official: 256).
        low_indices, high_indices: which backbone outputs form L and H (official: F1-F3, F4-F5).
        aspp: end H with ASPP (official). With ``False`` H ends with a CBP 1x1 like L, i.e. the
            paper's Eq. 3 "three conv layers, each followed by PReLU" (chosen).
        low_size_index: position in ``in_channels`` of the feature whose size L (and so H) takes;
            default ``low_indices[0]`` (ResNeXt's stride-4 F1). VGG-16 (R3Net-V) taps
            conv1_2 .. conv5_3 at strides 1-16, so its stride-4 conv3_3 is index 2 ("a quarter of
            the size of the input image", paper §2.1).
    Returns:
        ``(low, high)``, both (N, channels, H/4, W/4) for a stride-4 F1.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256, 512, 1024, 2048),
                 channels: int = 256,
                 low_indices: Sequence[int] = (0, 1, 2),
                 high_indices: Sequence[int] = (3, 4),
                 aspp: bool = True,
                 align_corners: bool = True,
                 low_size_index: Optional[int] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = tuple(in_channels)
        for name, indices in (('low_indices', low_indices), ('high_indices', high_indices)):
            if not indices or any(not 0 <= i < len(self.in_channels) for i in indices):
                raise ValueError(f'R3NetNeck: {name}={tuple(indices)} must be a non-empty list of '
                                 f'positions in in_channels={self.in_channels}')
        self.low_indices = tuple(low_indices)
        self.high_indices = tuple(high_indices)
        self.channels = channels
        self.align_corners = align_corners
        self.low_size_index = self.low_indices[0] if low_size_index is None else low_size_index
        if not 0 <= self.low_size_index < len(self.in_channels):
            raise ValueError(f'R3NetNeck: low_size_index={low_size_index} is not a position in '
                             f'in_channels={self.in_channels}')

        low_in = sum(self.in_channels[i] for i in self.low_indices)
        high_in = sum(self.in_channels[i] for i in self.high_indices)
        self.reduce_low = nn.Sequential(
            ConvBNPReLU(low_in, channels, 3),
            ConvBNPReLU(channels, channels, 3),
            ConvBNPReLU(channels, channels, 1))
        last_high = ASPP(channels, align_corners=align_corners) if aspp \
            else ConvBNPReLU(channels, channels, 1)
        self.reduce_high = nn.Sequential(
            ConvBNPReLU(high_in, channels, 3),
            ConvBNPReLU(channels, channels, 3),
            last_high)

    def _concat(self, inputs: Sequence[torch.Tensor], indices: Sequence[int],
                size=None) -> torch.Tensor:
        size = inputs[indices[0]].shape[-2:] if size is None else size
        feats: List[torch.Tensor] = [_resize_to(inputs[i], size, self.align_corners)
                                     for i in indices]
        return torch.cat(feats, dim=1)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'R3NetNeck expects {len(self.in_channels)} backbone outputs '
                             f'(in_channels={self.in_channels}), got {len(inputs)}')
        low = self.reduce_low(self._concat(inputs, self.low_indices,
                                           inputs[self.low_size_index].shape[-2:]))
        high = self.reduce_high(self._concat(inputs, self.high_indices))
        high = _resize_to(high, low.shape[-2:], self.align_corners)
        return low, high
