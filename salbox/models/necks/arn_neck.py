"""The attentional recurrent network (ARN) of Sun, Li & Guan, "Self-attention Recurrent Network
for Saliency Detection" (arXiv 1808.01634), §3.1-3.4 and Fig. 1, as a neck."""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from salbox.models.layers.rcl import RecurrentConvLayer
from salbox.models.layers.self_attention import SelfAttention2d
from salbox.registry import MODELS


def he_init_(module: nn.Module) -> None:
    """He (Kaiming-normal, fan_in, ReLU gain) weights and zero biases (ARN paper §4.3)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ARNStage(nn.Module):
    """One decoder stage (paper §3.1): S_att(k+1) -> transposed conv x2 -> concat with the
    RCL-enhanced side output L_k -> ``num_convs`` x (3x3 conv + ReLU) -> self-attention -> S_att(k).

    The transposed conv (4x4, stride 2, padding 1; chosen) doubles the size; odd sizes are matched
    to the side output: one extra row/column (output_padding 1) after a floor pooling (VGG: 25 -> 12
    on the way down, so 12 -> 24 becomes 25), one cropped after a TensorFlow-'same' stride
    (EfficientNet: 37 -> 19 on the way down, so 19 -> 38 becomes 37).
    """

    def __init__(self, in_channels: int, side_channels: int, channels: int, num_convs: int,
                 attention: dict):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, channels, kernel_size=4, stride=2, padding=1)
        convs: List[nn.Module] = []
        for i in range(num_convs):
            convs += [nn.Conv2d(channels + side_channels if i == 0 else channels, channels, 3,
                                padding=1),
                      nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*convs)
        self.attention = SelfAttention2d(channels, **attention)

    def forward(self, deep: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
        height, width = side.shape[-2:]
        size = (max(height, 2 * deep.shape[-2]), max(width, 2 * deep.shape[-1]))
        up = self.up(deep, output_size=size)[..., :height, :width]
        return self.attention(self.convs(torch.cat([up, side], dim=1)))


@MODELS.register_module()
class ARNNeck(BaseModule):
    """Attentional recurrent network: RCL on the side outputs, self-attention on S5 and at every
    decoder stage, transposed-conv fusion from S_att5 down to S_att2 (ARN paper §3.1, Fig. 1).

    Inputs: (L2, L3, L4, S5) = VGG16 conv2_2, conv3_3, conv4_3, conv5_3 (paper §3.2; strides 2, 4,
    8, 16). L2, L3, L4 each pass through an RCL (§3.4, Eq. 5-8), S5 through a self-attention block
    (§3.3, Eq. 1-4) giving S_att5. Then for k = 4, 3, 2: S_att(k) = SA(convs(cat(up(S_att(k+1)),
    RCL(L_k)))). Returns [S_att5, S_att4, S_att3, S_att2] (coarse to fine) for a deep-supervised
    head.

    The paper gives the structure but no widths, kernel sizes or conv counts; chosen (see
    configs/arn/README.md): every RCL keeps its side output's width, T = 3 and LRN N = K // 8 + 1,
    alpha 1e-3, beta 0.75 (Liang & Hu, CVPR 2015); decoder stage k has the width of L_k
    (512, 256, 128 for VGG16) and two 3x3 conv + ReLU after the concat; no normalisation layers
    besides the RCL's LRN (the paper names none). He init with zero biases (§4.3).

    Args:
        in_channels: channels of (L2, L3, L4, S5).
        channels: decoder widths of (S_att2, S_att3, S_att4); default = the side outputs' widths.
        num_convs: 3x3 conv + ReLU layers after each concat.
        rcl: keyword arguments of ``RecurrentConvLayer`` (``num_steps``, ``lrn_size``, ...).
        attention: keyword arguments of ``SelfAttention2d`` (``reduction``, ``impl``, ...).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 512),
                 channels: Sequence[int] = None,
                 num_convs: int = 2,
                 rcl: dict = None,
                 attention: dict = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(in_channels)
        if len(in_channels) < 2:
            raise ValueError('ARNNeck: in_channels needs the side outputs and the deepest map '
                             f'(L2, L3, L4, S5 for VGG16), got {in_channels}')
        channels = tuple(channels) if channels is not None else in_channels[:-1]
        if len(channels) != len(in_channels) - 1:
            raise ValueError(f'ARNNeck: channels={channels} needs one width per side output '
                             f'({len(in_channels) - 1} for in_channels={in_channels})')
        if num_convs < 1:
            raise ValueError(f'ARNNeck: num_convs must be >= 1, got {num_convs}')
        self.in_channels = in_channels
        self.channels = channels
        rcl = dict(rcl or {})
        attention = dict(attention or {})
        self.rcls = nn.ModuleList(RecurrentConvLayer(c, c, **rcl) for c in in_channels[:-1])
        self.top_attention = SelfAttention2d(in_channels[-1], **attention)
        # stages[i] produces the map at side output i (finest first), fed by the stage below it.
        deep = list(channels[1:]) + [in_channels[-1]]
        self.stages = nn.ModuleList(
            ARNStage(deep[i], in_channels[i], channels[i], num_convs, attention)
            for i in range(len(channels)))
        # S_att5 ... S_att2 widths, coarse to fine (the head's in_channels).
        self.out_channels = (in_channels[-1], ) + tuple(reversed(channels))
        he_init_(self)

    def forward(self, inputs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'ARNNeck expects {len(self.in_channels)} backbone outputs '
                             f'(in_channels={self.in_channels}), got {len(inputs)}')
        sides = [rcl(x) for rcl, x in zip(self.rcls, inputs[:-1])]
        x = self.top_attention(inputs[-1])
        outs = [x]
        for i in reversed(range(len(self.stages))):
            x = self.stages[i](x, sides[i])
            outs.append(x)
        return outs
