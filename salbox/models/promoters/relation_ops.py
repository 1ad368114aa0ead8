"""Parameter-free steps of LDPS: the foreground anchor, the training pairs and the merge.

Equations of Chen et al., AAAI 2020 (Sec. 4.2-4.3) as the official code computes them
(``ouc-ocean-group/LDPS`` at 81a609d, ``lib/module/mi_module.py`` and ``lib/model/mi.py``).
Every function guards the empty cases (no anchor pixel, constant map): no division by zero,
no NaN.
"""
from typing import Tuple

import torch


def foreground_anchor(feats: torch.Tensor, prior: torch.Tensor, theta_fg: float = 0.9
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Eq. 7: ``F_fg = sum_i p_i f_i`` over the FG-mask ``prior >= theta_fg``, with
    ``p_i = s_i / sum s_i`` (the prior-weighted mean of the features there).

    Args:
        feats: (N, C, H, W) features at the prior's resolution.
        prior: (N, 1, H, W) prior maps in [0, 1].

    Returns:
        ``(anchor, has_anchor)``: (N, C) anchors (zeros where there is none) and an (N,) bool
        that is False for maps with no pixel >= ``theta_fg`` (or whose weights sum to 0).
    """
    weights = prior * (prior >= theta_fg).to(prior.dtype)
    total = weights.sum(dim=(1, 2, 3))
    has_anchor = total > 0
    weights = weights / total.clamp_min(torch.finfo(prior.dtype).tiny).view(-1, 1, 1, 1)
    anchor = (feats * weights).sum(dim=(2, 3))
    return anchor, has_anchor


def pair_targets(prior: torch.Tensor, theta_afg: float = 0.8, theta_abg: float = 0.3
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sec. 4.2 guide masks: target 1 on the AFG-mask ``prior >= theta_afg`` (positive pairs,
    Eq. 8), 0 elsewhere; valid on the AFG- and ABG-mask (``prior <= theta_abg``, negative pairs,
    Eq. 9). Pixels in between are ignored. Returns float (target, valid)."""
    positive = prior >= theta_afg
    negative = prior <= theta_abg
    return positive.to(prior.dtype), (positive | negative).to(prior.dtype)


def confidence(sal: torch.Tensor) -> torch.Tensor:
    """Eq. 10: ``c = s if s > 0.5 else 1 - s``, i.e. ``0.5 + |s - 0.5|`` (the code's
    ``9 (s - 0.5)^2`` orders pixels identically)."""
    return 0.5 + (sal - 0.5).abs()


def confidence_merge(relation: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Eq. 11: per pixel, the prior where its confidence is at least the relation map's, the
    relation map otherwise. Ties go to the prior, as in the code (``MINet.fuse_result``:
    ``prior_conf >= result_conf``; the paper's Eq. 11 writes the strict ``>``)."""
    return torch.where(confidence(prior) >= confidence(relation), prior, relation)


def minmax_normalise(sal: torch.Tensor) -> torch.Tensor:
    """Per map min-max normalisation to [0, 1] (``MIOperator.evaluate_process``); a constant
    map is returned clipped to [0, 1] instead of divided by zero."""
    flat = sal.flatten(1)
    low = flat.min(dim=1).values.view(-1, *[1] * (sal.dim() - 1))
    high = flat.max(dim=1).values.view(-1, *[1] * (sal.dim() - 1))
    span = high - low
    scaled = (sal - low) / span.clamp_min(1e-12)
    return torch.where(span > 1e-12, scaled, sal.clamp(0, 1))
