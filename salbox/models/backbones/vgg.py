"""VGG backbones (Simonyan & Zisserman, ICLR 2015) with torchvision's parameter names.

The convolutional part is one ``nn.Sequential`` called ``features`` whose layer list is the one
torchvision's ``vgg.py`` builds (``cfgs`` 'A', 'B', 'D', 'E'): per stage, ``Conv2d(3x3, pad 1)
[-> BatchNorm2d] -> ReLU`` repeated, then ``MaxPool2d(2, 2)``. The parameters are therefore called
``features.<N>.weight`` / ``features.<N>.bias`` (plus BN statistics for ``*_bn``) with the same
``N`` as torchvision, so a torchvision ImageNet ``.pth`` loads with
``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` and no key mapping (the ``classifier.*``
keys are simply unexpected). ``avgpool`` and ``classifier`` are not built.

Outputs are the stage outputs *before* pooling: index 0..4 = conv1_2, conv2_2, conv3_3, conv4_3,
conv5_3 for VGG16 (the last conv + ReLU of each stage; strides 1, 2, 4, 8, 16).
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from salbox.registry import MODELS
from .base import FreezableBackbone


@MODELS.register_module()
class VGG(FreezableBackbone):
    """VGG-11/13/16/19 feature extractor (torchvision layout, no classifier).

    Args:
        depth: 11, 13, 16 or 19 (torchvision configurations A, B, D, E).
        with_bn: BatchNorm after every conv (torchvision's ``vgg*_bn``).
        widths: channels of the five stages. Anything but the default (64, 128, 256, 512, 512)
            is a slimmed VGG for CPU experiments that no ImageNet file fits.
        out_indices: stage outputs to return, in 0..4 (before each max-pool).
        frozen_stages: freeze stages 0..frozen_stages (their convs and BNs); -1 freezes nothing.
        norm_eval: keep every BatchNorm in eval mode during training.
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=PATH)``.
            Without one, convs start as torchvision initialises VGG (Kaiming-normal fan_out,
            zero bias) and BNs as 1/0.

    Attributes:
        stage_channels: channels of the five stage outputs.
        out_channels: channels of the selected outputs.
        stage_slices: ``(start, stop)`` indices into ``features`` of each stage's layers, the
            pool excluded.
    """

    # Convs per stage (torchvision vgg.py cfgs); the widths are 64, 128, 256, 512, 512.
    arch_settings = {
        11: (1, 1, 2, 2, 2),
        13: (2, 2, 2, 2, 2),
        16: (2, 2, 3, 3, 3),
        19: (2, 2, 4, 4, 4),
    }
    default_widths = (64, 128, 256, 512, 512)

    def __init__(self,
                 depth: int = 16,
                 with_bn: bool = False,
                 widths: Sequence[int] = default_widths,
                 out_indices: Sequence[int] = (0, 1, 2, 3, 4),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'VGG: invalid depth {depth}, choose one of '
                           f'{sorted(self.arch_settings)}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i <= 4 for i in out_indices) \
                or len(set(out_indices)) != len(out_indices):
            raise ValueError('VGG: out_indices must be distinct stage indices in 0..4 '
                             f'(conv1 .. conv5 outputs before pooling), got {out_indices}')
        widths = tuple(int(w) for w in widths)
        if len(widths) != 5 or min(widths) < 1:
            raise ValueError(f'VGG: widths needs five positive stage widths, got {widths}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'VGG: frozen_stages must be in -1..4, got {frozen_stages}')
        self.depth = depth
        self.with_bn = with_bn
        self.out_indices = tuple(sorted(out_indices))
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.widths = widths

        layers: List[nn.Module] = []
        self.stage_slices: List[Tuple[int, int]] = []
        in_channels = 3
        for num_convs, width in zip(self.arch_settings[depth], self.widths):
            start = len(layers)
            for _ in range(num_convs):
                layers.append(nn.Conv2d(in_channels, width, kernel_size=3, padding=1))
                if with_bn:
                    layers.append(nn.BatchNorm2d(width))
                layers.append(nn.ReLU(inplace=True))
                in_channels = width
            self.stage_slices.append((start, len(layers)))
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        self.features = nn.Sequential(*layers)
        self.stage_channels: Tuple[int, ...] = self.widths
        self.out_channels: Tuple[int, ...] = tuple(self.widths[i] for i in self.out_indices)

        self._init_like_torchvision()
        self._freeze_stages()

    def _init_like_torchvision(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(m.bias)
            elif isinstance(m, _BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        last = self.out_indices[-1]
        for stage, (start, stop) in enumerate(self.stage_slices):
            if stage > 0:
                x = self.features[start - 1](x)  # the previous stage's max-pool
            for index in range(start, stop):
                x = self.features[index](x)
            if stage in self.out_indices:
                outs.append(x)
            if stage == last:
                break
        return tuple(outs)

    def frozen_modules(self) -> List[nn.Module]:
        """The layers of ``features`` up to the end of the ``frozen_stages``-th stage."""
        return list(self.features[:self.stage_slices[self.frozen_stages][1]])
