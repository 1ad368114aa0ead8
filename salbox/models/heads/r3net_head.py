"""R3Net's initial prediction and chain of residual refinement blocks (RRBs)."""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from salbox.models.layers import ConvBNPReLU
from salbox.registry import MODELS


class RefinementBlock(nn.Module):
    """Phi of paper Eq. 1: cat(S_{j-1}, F) -> CBP 3x3 -> CBP 3x3 -> Conv 1x1 to one logit map
    (official ``predict1..6``: 257 -> 128 -> 128 -> 1 in zijundeng/R3Net ``model.py``)."""

    def __init__(self, in_channels: int = 256, channels: int = 128):
        super().__init__()
        self.convs = nn.Sequential(ConvBNPReLU(in_channels + 1, channels, 3),
                                   ConvBNPReLU(channels, channels, 3))
        self.predict = nn.Conv2d(channels, 1, kernel_size=1)

    def forward(self, prev_logit: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
        return self.predict(self.convs(torch.cat([prev_logit, feature], dim=1)))


@MODELS.register_module()
class R3NetHead(BaseModule):
    """Recurrent residual refinement of R3Net (paper §3.1-3.2, Eq. 1; official ``model.py``).

    S_0 = ``predict0``(H) (Conv 1x1, 256 -> 1); then for j = 1..num_steps
    S_j = S_{j-1} + RRB_j(cat(S_{j-1}, F_j)) in logit space, with F_j taken from
    ``feature_order`` cycled over the steps ('LH' gives L, H, L, H, L, H as in the paper).
    Returns the ``num_steps + 1`` logit maps [S_0, ..., S_n] at the neck's resolution (stride 4);
    the detector upsamples them with ``align_corners=True`` (``self.align_corners``).
    Weights keep PyTorch's default init (official code; the paper says Gaussian).

    Table 1 ablations as switches (paper §4.3):
      - "R3Net-0" ... "R3Net-7": ``num_steps=0..7`` (paper and official: 6);
      - "R3Net w/o r": ``residual=False``, S_j = RRB_j(cat(S_{j-1}, F_j));
      - "R3Net w s": ``shared_weights=True``, one RRB reused at every step;
      - "R3Net LL" / "R3Net HH": ``feature_order='LL'`` / ``'HH'`` (only L / only H);
      - "R3Net-D" / "R3Net-V" (DenseNet-161 / VGG-16) change the backbone: a config matter.
    ``feature_order='HL'`` (H first) is offered too, though Table 1 does not report it.

    Args:
        in_channels: channels of L and H (official: 256).
        channels: width of the RRB convs (official: 128).
    """

    def __init__(self,
                 in_channels: int = 256,
                 channels: int = 128,
                 num_steps: int = 6,
                 residual: bool = True,
                 shared_weights: bool = False,
                 feature_order: str = 'LH',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_steps < 0:
            raise ValueError(f'R3NetHead: num_steps must be >= 0, got {num_steps}')
        if not feature_order or set(feature_order) - {'L', 'H'}:
            raise ValueError("R3NetHead: feature_order must be a non-empty string of 'L' and "
                             f"'H' (e.g. 'LH', 'HL', 'LL', 'HH'), got {feature_order!r}")
        self.in_channels = in_channels
        self.channels = channels
        self.num_steps = num_steps
        self.residual = residual
        self.shared_weights = shared_weights
        self.feature_order = feature_order
        # Feature ('L' or 'H') each refinement step reads.
        self.step_features: List[str] = [feature_order[i % len(feature_order)]
                                         for i in range(num_steps)]
        # The detector upsamples the stride-4 logits like the official code.
        self.align_corners = True

        self.predict0 = nn.Conv2d(in_channels, 1, kernel_size=1)
        num_blocks = min(num_steps, 1) if shared_weights else num_steps
        self.rrbs = nn.ModuleList(RefinementBlock(in_channels, channels)
                                  for _ in range(num_blocks))

    def forward(self, inputs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """``inputs`` = (L, H) from ``R3NetNeck``; returns [S_0, ..., S_num_steps] logits."""
        if len(inputs) != 2:
            raise ValueError(f'R3NetHead expects the neck output (low, high), '
                             f'got {len(inputs)} tensors')
        features = dict(L=inputs[0], H=inputs[1])
        logit = self.predict0(features['H'])
        logits = [logit]
        for step, name in enumerate(self.step_features):
            rrb = self.rrbs[0 if self.shared_weights else step]
            update = rrb(logit, features[name])
            logit = logit + update if self.residual else update
            logits.append(logit)
        return logits
