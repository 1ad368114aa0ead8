"""ResNet and ResNeXt backbones with torchvision's parameter names.

The layout follows torchvision's ``resnet.py`` (He et al., CVPR 2016; Xie et al., CVPR 2017):
``conv1, bn1`` stem, ``layer1..layer4`` of ``BasicBlock``/``Bottleneck`` with
``conv1, bn1, conv2, bn2[, conv3, bn3], downsample.0/1``, the stride in the 3x3 conv
(ResNet-B, as in torchvision and fb.resnet.torch) and no ``fc``. A torchvision ``.pth`` therefore
loads with ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``; only ``fc.*`` is unexpected.
``strides``/``dilations``/``frozen_stages``/``norm_eval`` behave as in MMSegmentation's ResNet.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn

from salbox.registry import MODELS
from .base import FreezableBackbone, init_conv_fan_out


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1,
             dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=dilation,
                     dilation=dilation, groups=groups, bias=False)


def _conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18/34); the stride sits in ``conv1`` as in torchvision."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: Optional[nn.Module] = None, groups: int = 1,
                 width_per_group: int = 64):
        super().__init__()
        if groups != 1 or width_per_group != 64:
            raise ValueError('ResNet-18/34 (BasicBlock) support only groups=1 and '
                             f'width_per_group=64, got groups={groups}, '
                             f'width_per_group={width_per_group}')
        self.conv1 = _conv3x3(in_channels, planes, stride, dilation=dilation)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, dilation=dilation)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (grouped, strided) -> 1x1 bottleneck (ResNet-50+ and ResNeXt).

    Inner width is ``int(planes * width_per_group / 64) * groups`` as in torchvision, so
    ResNeXt-101 32x4d has widths 128/256/512/1024 (torchvision ``resnet.py``).
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: Optional[nn.Module] = None, groups: int = 1,
                 width_per_group: int = 64):
        super().__init__()
        width = int(planes * (width_per_group / 64.0)) * groups
        self.conv1 = _conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = _conv3x3(width, width, stride, groups=groups, dilation=dilation)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def make_res_layer(block: type, in_channels: int, planes: int, num_blocks: int, stride: int,
                   dilation: int, groups: int, width_per_group: int) -> nn.Sequential:
    """One stage; a projection shortcut (``downsample``) only in the first block when needed."""
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(_conv1x1(in_channels, out_channels, stride),
                                   nn.BatchNorm2d(out_channels))
    blocks = [block(in_channels, planes, stride, dilation, downsample, groups, width_per_group)]
    blocks += [block(out_channels, planes, 1, dilation, None, groups, width_per_group)
               for _ in range(1, num_blocks)]
    return nn.Sequential(*blocks)


@MODELS.register_module()
class ResNet(FreezableBackbone):
    """ResNet backbone returning the stem and the four stages (torchvision names, no ``fc``).

    Output index 0 is the stem after max-pool (64 ch, stride 4; R3Net's F1) and 1..4 are
    ``layer1..layer4`` (R3Net's F2..F5, official ``model.py``). Without a ``Pretrained`` init_cfg
    the weights start as torchvision initialises them (Kaiming-normal fan_out convs, BN 1/0).

    Args:
        depth: 18, 34, 50, 101 or 152.
        groups, width_per_group: ResNeXt cardinality and per-group width (64 = plain ResNet).
        out_indices: which of (stem, layer1, ..., layer4) to return, in 0..4.
        strides, dilations: per stage (layer1..4); all blocks of a stage share the dilation,
            as in MMSegmentation's ResNet.
        frozen_stages: freeze the stem (0) and layers 1..frozen_stages; -1 freezes nothing.
        norm_eval: keep every BatchNorm in eval mode during training.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=PATH)``.
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }
    stem_channels = 64

    def __init__(self,
                 depth: int,
                 groups: int = 1,
                 width_per_group: int = 64,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4),
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'{type(self).__name__}: invalid depth {depth}, choose one of '
                           f'{sorted(self.arch_settings)}')
        if len(strides) != 4 or len(dilations) != 4:
            raise ValueError(f'{type(self).__name__}: strides and dilations need one value per '
                             f'stage (4), got strides={strides}, dilations={dilations}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i <= 4 for i in out_indices):
            raise ValueError(f'{type(self).__name__}: out_indices must be a non-empty subset '
                             f'of 0..4 (0 = stem, 1..4 = layer1..4), got {out_indices}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'{type(self).__name__}: frozen_stages must be in -1..4, '
                             f'got {frozen_stages}')
        self.depth = depth
        self.groups = groups
        self.width_per_group = width_per_group
        self.out_indices = out_indices
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        block, stage_blocks = self.arch_settings[depth]
        self.conv1 = nn.Conv2d(3, self.stem_channels, kernel_size=7, stride=2, padding=3,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(self.stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        self.res_layers: List[str] = []
        channels = [self.stem_channels]
        in_channels = self.stem_channels
        for i, num_blocks in enumerate(stage_blocks):
            planes = 64 * 2**i
            layer = make_res_layer(block, in_channels, planes, num_blocks, self.strides[i],
                                   self.dilations[i], groups, width_per_group)
            name = f'layer{i + 1}'
            self.add_module(name, layer)
            self.res_layers.append(name)
            in_channels = planes * block.expansion
            channels.append(in_channels)
        # Channels of every possible output (stem, layer1..4) and of the requested ones.
        self.stage_channels: Tuple[int, ...] = tuple(channels)
        self.out_channels: Tuple[int, ...] = tuple(channels[i] for i in out_indices)

        init_conv_fan_out(self)
        self._freeze_stages()

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """conv1 -> bn1 -> relu -> maxpool: the stride-4, 64-channel stem (R3Net's F1)."""
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        x = self.forward_stem(x)
        if 0 in self.out_indices:
            outs.append(x)
        last = max(self.out_indices)
        for i, name in enumerate(self.res_layers, start=1):
            if i > last:
                break
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def frozen_modules(self) -> List[nn.Module]:
        """The stem and the first ``frozen_stages`` residual layers."""
        return [self.conv1, self.bn1] + [getattr(self, name)
                                         for name in self.res_layers[:self.frozen_stages]]


@MODELS.register_module()
class ResNeXt(ResNet):
    """ResNeXt (Xie et al., CVPR 2017) with torchvision's names; defaults are R3Net's
    ResNeXt-101 32x4d (paper §3.1, zijundeng/R3Net ``resnext/``: 42,128,704 parameters without fc).
    ResNeXt-50 32x4d and 101 32x8d are ``depth=50`` and ``width_per_group=8``."""

    def __init__(self, depth: int = 101, groups: int = 32, width_per_group: int = 4, **kwargs):
        super().__init__(depth=depth, groups=groups, width_per_group=width_per_group, **kwargs)
