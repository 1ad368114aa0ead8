"""DGRL's Recurrent Module on EfficientNet-Lite: the backbone unrolled with feedback convs.

DGRL (Wang et al., CVPR 2018, Sec. 3.2) unrolls a ResNet-50 (:class:`RecurrentResNet`). This is
the same recurrent module on salbox's pip-installable ImageNet backbone, for the DUTS-TR
comparison of every method on one backbone (configs/dgrl/README.md, "DUTS-TR recipe"). What
carries over from the official code (``stage1/train/train.prototxt``): the backbone's weights
are shared by the passes; at pass t > 1 every stage's input gets a 3x3 feedback conv of that
stage's output at pass t - 1 (:class:`FeedbackConvs`); one set of convs serves both transitions.

Stages (chosen, the ResNet mapping): the five block groups ending at the stride 2, 4, 8, 16 and 32
taps. Stage 0's input is the stem output (32 channels), as the ResNet stem gets layer1's
feedback; stage i > 0's input is tap i - 1. For Lite2: feedback convs 16->32, 24->16, 48->24,
120->48 and 352->120. Only stages up to the last selected tap run.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from salbox.registry import MODELS
from .efficientnet_lite import STEM_CHANNELS, EfficientNetLite
from .recurrent_feedback import FeedbackConvs


@MODELS.register_module()
class RecurrentEfficientNetLite(EfficientNetLite):
    """EfficientNet-Lite with DGRL's recurrent module; returns one feature tuple per pass.

    Parameter names are :class:`EfficientNetLite`'s (``pip://efficientnet_liteN`` loads by name);
    only ``feedback_convs.*`` are new (MSRA init, official filler).

    Args:
        num_passes: unrolled passes (official 3). 1 is a plain EfficientNet-Lite.
        share_feedback: one set of feedback convs for every transition (official) or one per
            transition.
        align_corners: of the feedback resize (official Caffe ``Interp``: True).
        **kwargs: :class:`EfficientNetLite` arguments (``arch``, ``out_indices``,
            ``frozen_stages``, ``norm_eval``, ``init_cfg``, ...).

    Output: ``tuple`` over passes of ``tuple`` over ``out_indices`` of feature maps.
    """

    def __init__(self, num_passes: int = 3, share_feedback: bool = True,
                 align_corners: bool = True, **kwargs):
        super().__init__(**kwargs)
        if num_passes < 1:
            raise ValueError(f'RecurrentEfficientNetLite: num_passes must be >= 1, '
                             f'got {num_passes}')
        self.num_passes = num_passes
        self.num_stages = max(self.out_indices) + 1
        outs = self.stage_channels[:self.num_stages]
        ins = ((STEM_CHANNELS,) + self.stage_channels)[:self.num_stages]
        # Shared: feedback_convs.0.<stage>; unshared: feedback_convs.<transition>.<stage>.
        self.feedback_convs = FeedbackConvs(outs, ins, num_passes, share_feedback,
                                            align_corners)

    def stage_blocks(self, stage: int) -> nn.ModuleList:
        """The blocks of stage ``stage``: after tap ``stage - 1``, up to and including tap
        ``stage``."""
        first = 0 if stage == 0 else self.tap_blocks[stage - 1] + 1
        return self._blocks[first:self.tap_blocks[stage] + 1]

    def forward(self, x: torch.Tensor) -> Tuple[Tuple[torch.Tensor, ...], ...]:
        # The stem sees the image only, so it is the same at every pass: compute it once.
        stem = F.relu6(self._bn0(self._conv_stem(x)))
        passes: List[Tuple[torch.Tensor, ...]] = []
        previous: Optional[Sequence[torch.Tensor]] = None
        for t in range(self.num_passes):
            h, outs = stem, []
            for stage in range(self.num_stages):
                if previous is not None:
                    h = self.feedback_convs.add(t - 1, stage, previous[stage], h)
                for block in self.stage_blocks(stage):
                    h = block(h)
                outs.append(h)
            previous = outs
            passes.append(tuple(outs[i] for i in self.out_indices))
        return tuple(passes)
