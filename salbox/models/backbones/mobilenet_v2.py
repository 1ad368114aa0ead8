"""MobileNetV2 (Sandler et al., CVPR 2018) with torchvision's parameter names and selectable taps.

Layout of torchvision's ``mobilenetv2.py`` (width 1.0): ``features.0`` is the stride-2 stem
(``features.0.0`` conv, ``features.0.1`` BN), ``features.1..17`` the inverted residual blocks
(``features.N.conv.*``: for expansion 1 ``conv.0.0/0.1`` depthwise + ``conv.1/conv.2`` linear
projection; otherwise ``conv.0.*`` expansion, ``conv.1.*`` depthwise, ``conv.2/conv.3``
projection), ``features.18`` the final 1x1 conv to 1280 (built only with ``with_last_conv``) and
no classifier. A torchvision ``mobilenet_v2`` state dict therefore loads with
``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` and no key mapping.

The taps are indices of ``features``. LDPS (Chen et al., AAAI 2020, Sec. 4.1) collects
"convolutional layer 0, 3, 13, and 17"; the official code (``ouc-ocean-group/LDPS``
``lib/backbone/mobile_net.py`` at 81a609d, ``MobileNetV2.forward``) returns ``features[0]``
(stride 2, 32 ch), ``[3]`` (stride 4, 24 ch), ``[13]`` (stride 16, 96 ch) and ``[17]`` (stride 32,
320 ch): the default ``out_indices``.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from salbox.registry import MODELS
from .base import FreezableBackbone

# (expansion t, output channels c, repeats n, first stride s): Sandler et al. Table 2.
INVERTED_RESIDUAL_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                              (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
NUM_FEATURES = 19  # features.0 (stem) .. features.17 (last block), features.18 (1x1 to 1280)


def _conv_bn_relu6(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                   groups: int = 1) -> nn.Sequential:
    """torchvision's ``Conv2dNormActivation``: children ``0`` conv (no bias), ``1`` BN, ``2``
    ReLU6."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2,
                  groups=groups, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """Expansion 1x1 (skipped when t = 1) -> depthwise 3x3 (stride) -> linear 1x1 projection,
    with an identity shortcut when the stride is 1 and the width is unchanged."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers: List[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn_relu6(in_channels, hidden, 1))
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, out_channels, 1, bias=False),
                   nn.BatchNorm2d(out_channels)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.use_res_connect else out


@MODELS.register_module()
class MobileNetV2(FreezableBackbone):
    """MobileNetV2 (width 1.0) returning the ``features[i]`` outputs listed in ``out_indices``.

    Args:
        out_indices: indices of ``features`` to return, in 0..17 (0..18 with the last conv).
            Default (0, 3, 13, 17): the LDPS taps (strides 2/4/16/32, 32/24/96/320 channels).
        with_last_conv: also build ``features.18`` (1x1 conv to 1280). LDPS uses MobileNetV2
            "without the fully connected layer" and its code stops at ``features[17]``, so the
            default is False; a torchvision checkpoint then has ``features.18.*`` and
            ``classifier.*`` as its only unexpected keys.
        frozen_stages: freeze ``features[0..frozen_stages]``; -1 freezes nothing.
        norm_eval: keep every BatchNorm in eval mode during training.
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint='mobilenet_v2-b0353104.pth')``.
            Without it the weights start as torchvision initialises them.
    """

    def __init__(self,
                 out_indices: Sequence[int] = (0, 3, 13, 17),
                 with_last_conv: bool = False,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        out_indices = tuple(out_indices)
        last = NUM_FEATURES - (1 if with_last_conv else 2)
        if not out_indices or any(not 0 <= i <= last for i in out_indices) \
                or list(out_indices) != sorted(set(out_indices)):
            raise ValueError(f'MobileNetV2: out_indices must be increasing indices of features '
                             f'in 0..{last} (18 needs with_last_conv=True), got {out_indices}')
        if not -1 <= frozen_stages <= last:
            raise ValueError(f'MobileNetV2: frozen_stages must be in -1..{last}, '
                             f'got {frozen_stages}')
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        channels = [32]
        layers: List[nn.Module] = [_conv_bn_relu6(3, 32, 3, stride=2)]
        strides = [2]
        in_channels = 32
        for t, c, n, s in INVERTED_RESIDUAL_SETTINGS:
            for i in range(n):
                stride = s if i == 0 else 1
                layers.append(InvertedResidual(in_channels, c, stride, t))
                in_channels = c
                channels.append(c)
                strides.append(strides[-1] * stride)
        if with_last_conv:
            layers.append(_conv_bn_relu6(in_channels, 1280, 1))
            channels.append(1280)
            strides.append(strides[-1])
        self.features = nn.Sequential(*layers)
        self.feature_channels: Tuple[int, ...] = tuple(channels)
        self.feature_strides: Tuple[int, ...] = tuple(strides)
        self.out_channels: Tuple[int, ...] = tuple(channels[i] for i in out_indices)
        self.out_strides: Tuple[int, ...] = tuple(strides[i] for i in out_indices)
        self._init_like_torchvision()
        self._freeze_stages()

    def _init_like_torchvision(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
            elif isinstance(m, _BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        for i, layer in enumerate(self.features):
            if i > self.out_indices[-1]:
                break
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def frozen_modules(self) -> List[nn.Module]:
        """``features[0]`` ... ``features[frozen_stages]``."""
        return list(self.features)[:self.frozen_stages + 1]
