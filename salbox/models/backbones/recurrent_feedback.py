"""DGRL's feedback connections, shared by every recurrent backbone of salbox.

Wang et al., "Detect Globally, Refine Locally", CVPR 2018, Sec. 3.2, as the official Caffe code
builds them (``stage1/train/train.prototxt`` of TiantianWang/CVPR18_detect_globally_refine_locally):
at pass t > 1 the input of every stage gets, added to it, a 3x3 conv (no bias, no BN/ReLU, MSRA
init) of the *same* stage's output at pass t - 1, mapping that output's width to the input's and
bilinearly resized (Caffe ``Interp``: ``align_corners=True``) to the input's size. One set of convs
serves every transition (official) or one set per transition (ablation).
"""
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


class FeedbackConvs(nn.ModuleList):
    """``self[s][i]``: the conv of set ``s`` from stage ``i``'s output to stage ``i``'s input.

    Parameter names are ``<attr>.<set>.<stage>.weight`` (a ModuleList of ModuleLists), as in
    salbox's first RecurrentResNet, so its checkpoints keep loading.

    Args:
        stage_out_channels: output width of each fed-back stage.
        stage_in_channels: input width of the same stages.
        num_passes: passes of the unrolled backbone; ``num_passes - 1`` transitions.
        share: one set for every transition (official) or one per transition.
        align_corners: of the resize (official: True).
    """

    def __init__(self, stage_out_channels: Sequence[int], stage_in_channels: Sequence[int],
                 num_passes: int, share: bool = True, align_corners: bool = True):
        if len(stage_out_channels) != len(stage_in_channels):
            raise ValueError('FeedbackConvs: one input width per stage output is needed, got '
                             f'{tuple(stage_out_channels)} and {tuple(stage_in_channels)}')
        num_sets = 0 if num_passes < 2 else (1 if share else num_passes - 1)
        super().__init__(self._make_set(stage_out_channels, stage_in_channels)
                         for _ in range(num_sets))
        self.share = share
        self.align_corners = align_corners

    @staticmethod
    def _make_set(out_channels: Sequence[int], in_channels: Sequence[int]) -> nn.ModuleList:
        convs = nn.ModuleList()
        for cout, cin in zip(out_channels, in_channels):
            conv = nn.Conv2d(cout, cin, kernel_size=3, padding=1, bias=False)
            # Caffe "msra" filler: N(0, 2 / fan_in) (official prototxt).
            nn.init.kaiming_normal_(conv.weight, mode='fan_in', nonlinearity='relu')
            convs.append(conv)
        return convs

    def add(self, transition: int, stage: int, previous: torch.Tensor,
            target: torch.Tensor) -> torch.Tensor:
        """``target`` (stage input at pass ``transition + 1``) plus the feedback of
        ``previous`` (that stage's output at pass ``transition``)."""
        out = self[0 if self.share else transition][stage](previous)
        if out.shape[-2:] != target.shape[-2:]:
            out = F.interpolate(out, size=target.shape[-2:], mode='bilinear',
                                align_corners=self.align_corners)
        return target + out
