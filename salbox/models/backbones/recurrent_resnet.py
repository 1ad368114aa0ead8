"""DGRL's Recurrent Module (RM): a ResNet unrolled over several passes with feedback convs.

Wang et al., "Detect Globally, Refine Locally", CVPR 2018, Sec. 3.2 (recurrent module) as the
official Caffe code builds it (``stage1/train/train.prototxt`` of
TiantianWang/CVPR18_detect_globally_refine_locally):

* the backbone is unrolled ``num_passes`` = 3 times with its weights shared across passes;
* at pass t > 1 the input of every stage is its ordinary feed-forward input plus a feedback
  from the *same* stage's output at pass t - 1: a 3x3 conv (no bias, no BN/ReLU, MSRA init)
  mapping that output to the stage input's width, bilinearly resized (``align_corners=True``,
  Caffe ``Interp``) to the input's size. For ResNet-50: 256->64 added after the stem ReLU
  (before the max-pool), 512->256 (layer2 input), 1024->512 (layer3), 2048->1024 (layer4);
* the feedback convs are shared by the transitions 1->2 and 2->3 (``share_feedback=True``).

Pre-activation vs post-activation (chosen): the official RLN uses a pre-activation
ResNet-50 (v2, ``layer_*`` blocks with a BN+ReLU on each stage input and a final ``last_bn``),
whose stage outputs r_l are taken *after* that BN+ReLU. salbox builds on torchvision's
post-activation ResNet (v1), whose ``layer1..4`` outputs are already post-ReLU, so they are used
directly as r_2..r_5 and the feedback sum feeds both branches of the stage's first block, as in
the official graph. Only the position of the normalisation differs (configs/dgrl/README.md), which
lets torchvision ImageNet weights load with no key mapping.
"""
from typing import List, Optional, Sequence, Tuple

import torch

from salbox.registry import MODELS
from .recurrent_feedback import FeedbackConvs
from .resnet import ResNet


@MODELS.register_module()
class RecurrentResNet(ResNet):
    """ResNet with DGRL's recurrent module; returns one feature tuple per pass.

    The parameters of the ResNet keep torchvision's names (``conv1``, ``layer1``, ...), so a
    torchvision ``.pth`` loads through ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``
    (only the new ``feedback_convs.*`` stay at their MSRA initialisation).

    Args:
        num_passes: how many times the network is unrolled (official code: 3 = the paper's
            "t = 2" recurrent steps after the first pass). 1 is a plain ResNet.
        share_feedback: one set of feedback convs for every transition (official code) or a
            separate set per transition (ablation switch).
        align_corners: of the feedback resize (official code: Caffe ``Interp`` = True).
        **kwargs: :class:`ResNet` arguments (``depth``, ``out_indices``, ``frozen_stages``,
            ``norm_eval``, ``init_cfg``, ...). ``out_indices`` selects what each pass returns:
            0 = stem after max-pool, 1..4 = layer1..4.

    Output: ``tuple`` over passes of ``tuple`` over ``out_indices`` of feature maps.
    """

    def __init__(self, num_passes: int = 3, share_feedback: bool = True,
                 align_corners: bool = True, **kwargs):
        super().__init__(**kwargs)
        if num_passes < 1:
            raise ValueError(f'RecurrentResNet: num_passes must be >= 1, got {num_passes}')
        self.num_passes = num_passes
        self.share_feedback = share_feedback
        self.align_corners = align_corners
        # Shared: feedback_convs.0.<stage>; unshared: feedback_convs.<transition>.<stage>.
        # Stage i's output (layer i) feeds stage i's input (the stem for layer1).
        self.feedback_convs = FeedbackConvs(self.stage_channels[1:], self.stage_channels[:-1],
                                            num_passes, share_feedback, align_corners)
        self._freeze_stages()

    def forward(self, x: torch.Tensor) -> Tuple[Tuple[torch.Tensor, ...], ...]:
        # The stem conv sees the image only, so it is the same at every pass: compute it once.
        stem = self.relu(self.bn1(self.conv1(x)))
        passes: List[Tuple[torch.Tensor, ...]] = []
        previous: Optional[Sequence[torch.Tensor]] = None
        for t in range(self.num_passes):
            h = stem if previous is None else self.feedback_convs.add(t - 1, 0, previous[0], stem)
            h = self.maxpool(h)
            outs = [h]
            for i, name in enumerate(self.res_layers):
                if previous is not None and i > 0:
                    h = self.feedback_convs.add(t - 1, i, previous[i], h)
                h = getattr(self, name)(h)
                outs.append(h)
            previous = outs[1:]
            passes.append(tuple(outs[i] for i in self.out_indices))
        return tuple(passes)
