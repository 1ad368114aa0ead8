"""F-measure family (Achanta et al. CVPR'09): adaptive F, PR curves, F curves.

``beta2`` is beta^2 (0.3). Curves come from threshold counts, vectorised over images: row
``i`` of every ``(N, n)`` array is image ``i``; columns are thresholds in *descending* order
(column 0 is the highest threshold), as PySODMetrics' flipped cumulative histogram.
"""
from typing import Tuple

import numpy as np

from .prepare import adaptive_threshold, binarize


def adaptive_fmeasure(pred: np.ndarray, gt: np.ndarray, beta2: float = 0.3, eps: float = 0.0,
                      compare: str = '>=', clip: bool = True) -> Tuple[float, float, float]:
    """(precision, recall, F) of ``pred`` binarised at ``min(2 * mean, 1)``.

    With ``eps == 0`` it is PySODMetrics' ``cal_adaptive_fm``: no true positive gives 0.
    With ``eps > 0``: ``P = (TP + eps) / (|B| + eps)``, ``R = (TP + eps) / (|G| + eps)``.
    """
    binary = binarize(pred, adaptive_threshold(pred, clip), compare)
    return fmeasure_from_counts(binary[gt].sum(), np.count_nonzero(binary), np.count_nonzero(gt),
                                beta2, eps)


def fmeasure_from_counts(true_pos: int, num_pred: int, num_gt: int, beta2: float = 0.3,
                         eps: float = 0.0) -> Tuple[float, float, float]:
    """(precision, recall, F) of one binary map from its counts (see ``adaptive_fmeasure``)."""
    if eps > 0:
        precision = (true_pos + eps) / (num_pred + eps)
        recall = (true_pos + eps) / (num_gt + eps)
    elif true_pos == 0:
        return 0.0, 0.0, 0.0
    else:
        precision = true_pos / num_pred
        recall = true_pos / num_gt
    fmeasure = (1 + beta2) * precision * recall / (beta2 * precision + recall)
    return float(precision), float(recall), float(fmeasure)


def cumulative_counts(fg_hist: np.ndarray, bg_hist: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """True positives and false positives per threshold (descending) from level histograms."""
    true_pos = np.cumsum(np.flip(fg_hist, axis=-1), axis=-1)
    false_pos = np.cumsum(np.flip(bg_hist, axis=-1), axis=-1)
    return true_pos, false_pos


def precision_recall(true_pos: np.ndarray, false_pos: np.ndarray, num_gt: np.ndarray,
                     eps: float = 0.0) -> Tuple[np.ndarray, np.ndarray]:
    """Per-threshold precision and recall; ``num_gt`` has one entry per row.

    ``eps == 0``: PySODMetrics' ``cal_pr`` (zero denominators become 1, so P = 0 when nothing
    is predicted and R = 0 for an empty mask). ``eps > 0``: R3Net/SalMetric smoothing.
    """
    num_gt = np.asarray(num_gt)[..., None]
    predicted = true_pos + false_pos
    if eps > 0:
        return (true_pos + eps) / (predicted + eps), (true_pos + eps) / (num_gt + eps)
    predicted = np.where(predicted == 0, 1, predicted)
    return true_pos / predicted, true_pos / np.maximum(num_gt, 1)


def fmeasure_from_pr(precision: np.ndarray, recall: np.ndarray, beta2: float = 0.3) -> np.ndarray:
    """``(1 + b2) P R / (b2 P + R)``, 0 where ``P R == 0`` (never NaN)."""
    numerator = (1 + beta2) * precision * recall
    denominator = np.where(numerator == 0, 1, beta2 * precision + recall)
    return numerator / denominator
