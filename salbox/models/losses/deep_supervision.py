"""One deep-supervision loss over a list of pixel losses, like MMSegmentation's ``loss_decode``
list: every output of the head is scored by every pixel loss, weighted per output.

    loss=dict(type='DeepSupervisionLoss', losses=[dict(type='BCELoss')])              # R3Net
    loss=dict(type='DeepSupervisionLoss',
              losses=[dict(type='WeightedBCELoss'), dict(type='WeightedIoULoss')])  # F3Net

R3Net (official ``train.py``): ``nn.BCEWithLogitsLoss()`` (mean) on each of the 7 outputs, all
at the input resolution, against the same soft mask, unit weights, summed (paper Sec. 3.3); DGRL
supervises each recurrent pass the same way. ``DeepSupervisionBCELoss`` is that case by name.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn

from salbox.registry import MODELS

from .pixel_losses import BCELoss


@MODELS.register_module()
class DeepSupervisionLoss(nn.Module):
    """Weighted sum over the outputs of the pixel losses' sum, against a soft mask in [0, 1].

    Args:
        losses: pixel-loss configs (``salbox.models.losses.pixel_losses``: ``BCELoss``,
            ``IoULoss``, ``WeightedBCELoss``, ``WeightedIoULoss``, or a registered one of
            yours with the same ``(logit, target, valid_mask)`` call). Default: BCE.
        weights: one weight per output (``None``: all 1, as R3Net). Its length must match the
            number of outputs the head returns.
        loss_weight: a global multiplier.
        loss_name: prefix of the returned keys; output ``i`` is logged as
            ``f'{loss_name}_{i}'`` (the sum of its pixel losses) so the log shows how each
            refinement step does. mmengine sums every key containing ``loss`` into the total.
    """

    def __init__(self, losses: Optional[Sequence[dict]] = None,
                 weights: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 loss_name: str = 'loss_sal'):
        super().__init__()
        self.losses = nn.ModuleList(
            loss if isinstance(loss, nn.Module) else MODELS.build(loss)
            for loss in (losses if losses is not None else [BCELoss()]))
        if len(self.losses) == 0:
            raise ValueError(f'{type(self).__name__}: losses is empty; give at least one '
                             "pixel loss, e.g. [dict(type='BCELoss')]")
        self.weights = None if weights is None else [float(w) for w in weights]
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, logits: List[torch.Tensor], target: torch.Tensor,
                valid_mask: Optional[torch.Tensor] = None) -> dict:
        """``logits``: list of (N, 1, H, W) at the target size; ``target``: (N, 1, H, W).

        ``valid_mask`` (N, 1, H, W) in {0, 1} excludes padded pixels from every loss.
        """
        if self.weights is not None and len(self.weights) != len(logits):
            raise ValueError(f'{type(self).__name__}: {len(self.weights)} weights given for '
                             f'{len(logits)} outputs')
        losses = {}
        for i, logit in enumerate(logits):
            if logit.shape != target.shape:
                raise ValueError(f'output {i} has shape {tuple(logit.shape)}, the mask '
                                 f'{tuple(target.shape)}')
            weight = 1.0 if self.weights is None else self.weights[i]
            # Under autocast (AutocastOptimWrapper) the logits arrive in bfloat16/float16: the
            # losses' sums over a map need float32.
            logit = logit.float()
            loss = sum(pixel_loss(logit, target, valid_mask) for pixel_loss in self.losses)
            losses[f'{self.loss_name}_{i}'] = loss * weight * self.loss_weight
        return losses


@MODELS.register_module()
class DeepSupervisionBCELoss(DeepSupervisionLoss):
    """``DeepSupervisionLoss`` with BCE alone (R3Net's and DGRL's loss), by its old name."""

    def __init__(self, weights: Optional[Sequence[float]] = None, loss_weight: float = 1.0,
                 loss_name: str = 'loss_sal'):
        super().__init__(losses=[BCELoss()], weights=weights, loss_weight=loss_weight,
                         loss_name=loss_name)
