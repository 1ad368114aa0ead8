"""U²-Net's side outputs and their fusion (Qin et al., Pattern Recognition 2020, Sec. 3.2)."""
from typing import List, Sequence

import torch
import torch.nn as nn

from salbox.models.backbones.u2net import upsample_like
from salbox.registry import MODELS


@MODELS.register_module()
class U2NetHead(nn.Module):
    """Six side saliency maps and the fused map, as logits.

    Official ``model/u2net.py``: ``side1``...``side6`` are 3x3 convolutions (padding 1, one
    output channel) on ``hx1d``...``hx5d`` and ``hx6``; ``side2``...``side6`` are upsampled
    bilinearly (``align_corners=False``) to ``side1``'s size (the input size); ``outconv`` (1x1)
    fuses the six into ``d0``, the map the official ``u2net_test.py`` saves. The official
    ``forward`` returns ``sigmoid(d0), sigmoid(d1), ..., sigmoid(d6)``; this head returns the
    logits ``[d1, d2, d3, d4, d5, d6, d0]``: every one is supervised (the official
    ``muti_bce_loss_fusion`` sums the BCE of all seven) and the fused ``d0`` is last, the map
    ``SaliencyDetector`` predicts with.

    Args:
        in_channels: channels of the six features (``U2Net.channels(arch)``: full
            (64, 64, 128, 256, 512, 512), small 64 each).
        out_channels: official ``out_ch=1``.
    """

    align_corners = False

    def __init__(self, in_channels: Sequence[int] = (64, 64, 128, 256, 512, 512),
                 out_channels: int = 1):
        super().__init__()
        in_channels = tuple(in_channels)
        if len(in_channels) != 6:
            raise ValueError(f'U2NetHead: expected 6 in_channels (hx1d..hx5d, hx6), '
                             f'got {in_channels}')
        for i, channels in enumerate(in_channels, start=1):
            setattr(self, f'side{i}', nn.Conv2d(channels, out_channels, 3, padding=1))
        self.outconv = nn.Conv2d(6 * out_channels, out_channels, 1)

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        if len(feats) != 6:
            raise ValueError(f'U2NetHead: expected 6 feature maps, got {len(feats)}')
        d1 = self.side1(feats[0])
        sides = [d1] + [upsample_like(getattr(self, f'side{i}')(feat), d1)
                        for i, feat in enumerate(feats[1:], start=2)]
        return sides + [self.outconv(torch.cat(sides, 1))]
