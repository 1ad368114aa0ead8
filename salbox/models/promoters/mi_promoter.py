"""``MIPromoter``: the LDPS relation model as a post-processor of any detector.

    model = dict(..., postprocessors=[dict(type='MIPromoter', checkpoint='promoter.pth'),
                                      dict(type='DenseCRF')])

It receives the original RGB image and the detector's map (the prior) and returns the promoted
map (Chen et al., AAAI 2020, Sec. 4.3). It works before or after ``DenseCRF``. With
``online=True`` it fits a fresh relation head to every image instead (Sec. 5.4; see
:func:`salbox.models.promoters.fitting.promote_online`).
"""
import warnings
from typing import Optional

import torch

from salbox.models.postprocessors.base import BasePostProcessor
from salbox.registry import MODELS
from .fitting import build_promoter, inference_copy, load_promoter, promote_online


@MODELS.register_module()
class MIPromoter(BasePostProcessor):
    """Promote a saliency map with a (label-free) trained relation model.

    Args:
        checkpoint: a promoter checkpoint (``tools/promote.py`` writes one; it records its
            model config). Required unless ``online=True``.
        model: the ``MIRelationNet`` config, when the checkpoint does not record one (or, in
            online mode without a checkpoint, the model whose backbone ``init_cfg`` gives the
            features). Default: the LDPS MobileNetV2 model.
        online: fit a fresh relation head to every image (10 iterations at lr 0.2 by default)
            instead of using the checkpoint's head.
        online_iters, online_lr: the online schedule (paper Sec. 5.4: 10 and 0.2).
        precision: ``'fp32'`` (default) or ``'bf16'``: the network runs in bfloat16, several
            times faster on CPUs with bfloat16 units (see ``inference_copy``). Not used by the
            online mode, which fits in float32.

    Images with no pixel >= ``theta_fg`` keep their map; ``num_no_anchor`` counts them and a
    warning names the running count.
    """

    def __init__(self, checkpoint: Optional[str] = None, model: Optional[dict] = None,
                 online: bool = False, online_iters: int = 10, online_lr: float = 0.2,
                 precision: str = 'fp32'):
        super().__init__()
        if checkpoint is None and not online:
            raise ValueError("MIPromoter needs a checkpoint (from tools/promote.py), or "
                             "online=True to fit every image on its own")
        if checkpoint is not None:
            self.model = load_promoter(checkpoint, model)
        else:
            self.model = build_promoter(model, init_weights=True).eval()
        if not online:  # BatchNorm folded (running statistics only), optionally bfloat16
            self.model = inference_copy(self.model, precision)
        self.checkpoint = checkpoint
        self.online = online
        self.online_iters = online_iters
        self.online_lr = online_lr
        self.num_no_anchor = 0

    def process(self, image: torch.Tensor, sal_map: torch.Tensor) -> torch.Tensor:
        prior = sal_map.detach().float().clamp(0, 1)
        if self.online:
            with torch.enable_grad():
                out, has_anchor = promote_online(self.model, image, prior,
                                                 self.online_iters, self.online_lr)
        else:
            self.model.eval()
            out, has_anchor = self.model.promote(image, prior)
        if not has_anchor:
            self.num_no_anchor += 1
            warnings.warn(f'MIPromoter: no pixel of the map reaches theta_fg='
                          f'{self.model.theta_fg}, so it is kept unchanged '
                          f'({self.num_no_anchor} such map(s) so far)', stacklevel=2)
            return prior
        return out
