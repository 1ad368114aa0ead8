"""DGRL's Recurrent Localization Network head: one CWM prediction per recurrent pass."""
from typing import List, Sequence

import torch
import torch.nn as nn

from salbox.registry import MODELS
from salbox.models.necks.contextual_weighting import ContextualWeightingFusion


@MODELS.register_module()
class RLNHead(nn.Module):
    """One :class:`ContextualWeightingFusion` per pass of a :class:`RecurrentResNet`.

    Wang et al., CVPR 2018, Sec. 3.2 and the official code (``stage1/train/train.prototxt``): each
    unrolled pass has its own CWMs and classifier (not shared across passes) and its own
    supervision, all with weight 1; the last pass is the prediction. Logits are at the finest
    input level's resolution (1/8); the detector upsamples them bilinearly with
    ``align_corners=True`` (the official ``Interp`` x8).

    Args:
        in_channels: channels of the levels fed to the CWMs (official: res3-res5 =
            512, 1024, 2048).
        in_index: which entries of each pass's feature tuple are those levels.
        num_passes: number of passes (= the backbone's ``num_passes``; official 3).
        share_across_passes: one CWM head for all passes (ablation switch; official: False).
        channels, **cwm_kwargs: see :class:`ContextualWeightingFusion`.
    """

    align_corners = True

    def __init__(self, in_channels: Sequence[int] = (512, 1024, 2048),
                 in_index: Sequence[int] = (0, 1, 2), num_passes: int = 3,
                 share_across_passes: bool = False, channels: int = 128, **cwm_kwargs):
        super().__init__()
        if len(in_index) != len(in_channels):
            raise ValueError(f'RLNHead: in_index {tuple(in_index)} and in_channels '
                             f'{tuple(in_channels)} must have the same length')
        self.in_index = tuple(in_index)
        self.num_passes = num_passes
        self.share_across_passes = share_across_passes
        num_heads = 1 if share_across_passes else num_passes
        self.pass_heads = nn.ModuleList(
            ContextualWeightingFusion(in_channels, channels, align_corners=self.align_corners,
                                      **cwm_kwargs) for _ in range(num_heads))

    def forward(self, passes: Sequence[Sequence[torch.Tensor]]) -> List[torch.Tensor]:
        """``passes``: one feature tuple per pass -> one logit map (N, 1, h, w) per pass."""
        if len(passes) != self.num_passes or not isinstance(passes[0], (tuple, list)):
            raise ValueError(f'RLNHead expects {self.num_passes} passes of feature tuples '
                             '(a RecurrentResNet backbone with the same num_passes), got '
                             f'{len(passes)} items')
        logits = []
        for t, feats in enumerate(passes):
            head = self.pass_heads[0 if self.share_across_passes else t]
            logits.append(head([feats[i] for i in self.in_index]))
        return logits
