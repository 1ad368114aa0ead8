"""Binary cross-entropy with logits over every deep-supervision output.

R3Net (official ``train.py``): ``nn.BCEWithLogitsLoss()`` (mean) on each of the 7 outputs,
all at the input resolution, against the same soft mask, unit weights, summed
(paper Sec. 3.3). DGRL supervises each recurrent pass the same way.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from salbox.registry import MODELS


@MODELS.register_module()
class DeepSupervisionBCELoss(nn.Module):
    """Weighted sum of per-output BCE-with-logits losses against a soft mask in [0, 1].

    Args:
        weights: one weight per output (``None``: all 1, as R3Net). Its length must match the
            number of outputs the head returns.
        loss_weight: a global multiplier.
        loss_name: prefix of the returned keys; each output ``i`` is logged as
            ``f'{loss_name}_{i}'`` so the log shows how each refinement step does. mmengine sums
            every key containing ``loss`` into the total.
    """

    def __init__(self, weights: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 loss_name: str = 'loss_sal'):
        super().__init__()
        self.weights = None if weights is None else [float(w) for w in weights]
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, logits: List[torch.Tensor], target: torch.Tensor,
                valid_mask: Optional[torch.Tensor] = None) -> dict:
        """``logits``: list of (N, 1, H, W) at the target size; ``target``: (N, 1, H, W).

        ``valid_mask`` (N, 1, H, W) in {0, 1} excludes padded pixels from the mean.
        """
        if self.weights is not None and len(self.weights) != len(logits):
            raise ValueError(f'DeepSupervisionBCELoss: {len(self.weights)} weights given for '
                             f'{len(logits)} outputs')
        losses = {}
        for i, logit in enumerate(logits):
            if logit.shape != target.shape:
                raise ValueError(f'output {i} has shape {tuple(logit.shape)}, the mask '
                                 f'{tuple(target.shape)}')
            weight = 1.0 if self.weights is None else self.weights[i]
            if valid_mask is None:
                loss = F.binary_cross_entropy_with_logits(logit, target)
            else:
                per_pixel = F.binary_cross_entropy_with_logits(logit, target, reduction='none')
                loss = (per_pixel * valid_mask).sum() / valid_mask.sum().clamp(min=1)
            losses[f'{self.loss_name}_{i}'] = loss * weight * self.loss_weight
        return losses
