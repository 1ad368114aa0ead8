"""A light deep-supervised prediction head on ARN's stage outputs."""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from salbox.registry import MODELS


@MODELS.register_module()
class ARNHead(BaseModule):
    """One 1x1 conv to a saliency logit per ARN stage output (S_att5 ... S_att2); every map is
    supervised and the last (from S_att2, the finest) is the prediction (ARN paper §3.1: "the
    final saliency map could be obtained by the last attention feature maps S_att2").

    The paper does not describe the prediction layer or its losses; one 1x1 conv per stage with
    deep supervision is chosen (configs/arn/README.md). He init, zero bias (paper §4.3). The
    detector upsamples each logit map bilinearly (``align_corners=False``) to the mask size.

    Args:
        in_channels: channels of the neck outputs, coarse to fine (``ARNNeck.out_channels``).
        supervise: which outputs to return (and so supervise), as indices into ``in_channels``;
            default all. The last index is the prediction, so it must be the final output.
    """

    def __init__(self, in_channels: Sequence[int] = (512, 512, 256, 128),
                 supervise: Sequence[int] = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = tuple(in_channels)
        supervise = tuple(range(len(self.in_channels))) if supervise is None else tuple(supervise)
        if not supervise or supervise[-1] != len(self.in_channels) - 1 \
                or any(not 0 <= i < len(self.in_channels) for i in supervise):
            raise ValueError(f'ARNHead: supervise={supervise} must be indices into in_channels '
                             f'{self.in_channels} ending with the finest output '
                             f'{len(self.in_channels) - 1}')
        self.supervise = supervise
        self.align_corners = False
        self.predictors = nn.ModuleList(nn.Conv2d(c, 1, kernel_size=1) for c in self.in_channels)
        for conv in self.predictors:
            nn.init.kaiming_normal_(conv.weight, mode='fan_in', nonlinearity='relu')
            nn.init.zeros_(conv.bias)

    def forward(self, inputs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'ARNHead expects {len(self.in_channels)} neck outputs '
                             f'(in_channels={self.in_channels}), got {len(inputs)}')
        return [self.predictors[i](inputs[i]) for i in self.supervise]
