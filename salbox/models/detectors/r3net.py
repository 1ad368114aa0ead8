"""R3Net: Recurrent Residual Refinement Network (Deng et al., IJCAI 2018).

A ``SaliencyDetector`` whose defaults are the paper's model as the official code builds it
(r3net_mmseg.md §1.2-1.7): ResNeXt-101 32x4d (F1 = stem after max-pool, F2-F5 = layer1-4),
the L (F1-F3) and H (F4-F5 + ASPP) integration neck, the initial prediction from H followed by
six unshared residual refinement blocks alternating L, H (paper §3.2, Fig. 2), unit-weight BCE
on all seven outputs (deep supervision, §3.3), bilinear upsampling with ``align_corners=True``
(official commit 93b8a34) and DenseCRF at test time (§4.1; official ``infer.py``).
Every part can be overridden in the config, which is how Table 1's ablations are switched.
"""
from typing import Optional, Sequence

from salbox.registry import MODELS
from .saliency_detector import SaliencyDetector

R3NET_BACKBONE = dict(type='ResNeXt', depth=101, groups=32, width_per_group=4)
R3NET_NECK = dict(type='R3NetNeck', in_channels=(64, 256, 512, 1024, 2048), channels=256)
R3NET_HEAD = dict(type='R3NetHead', in_channels=256, channels=128, num_steps=6)
R3NET_POSTPROCESSORS = (dict(type='DenseCRF'),)


@MODELS.register_module()
class R3Net(SaliencyDetector):
    """R3Net with the official architecture as defaults (56,156,126 parameters)."""

    def __init__(self,
                 backbone: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 postprocessors: Optional[Sequence[dict]] = R3NET_POSTPROCESSORS,
                 **kwargs):
        super().__init__(backbone=backbone or dict(R3NET_BACKBONE),
                         neck=neck or dict(R3NET_NECK),
                         head=head or dict(R3NET_HEAD),
                         postprocessors=[dict(p) for p in postprocessors or []],
                         **kwargs)
