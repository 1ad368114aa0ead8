"""E-measure (Fan et al. IJCAI'18), from counts of the four (prediction, mask) combinations.

The enhanced-alignment matrix of a binary map takes only four values, so the E-measure is a
weighted sum of four counts; written after PySODMetrics 1.6.2 ``Emeasure`` (same arithmetic,
same special cases: an all-background mask scores the predicted-background fraction, an
all-foreground mask the predicted-foreground fraction).

One deliberate difference: the sum is divided by ``size - 1 + eps`` (Fan's
``sum(enhanced(:)) ./ (w*h - 1 + eps)``), which for a 1-pixel image is ``eps`` and gives
4.5e15 in MATLAB and PySODMetrics; salbox divides a 1-pixel image's sum by 1, so the score
stays in [0, 1]. Every larger image scores exactly as in PySODMetrics.
"""
import numpy as np

from .prepare import EPS, adaptive_threshold, binarize


def _enhanced_sum(fg_fg, fg_bg, num_gt, size, gt_fg_dev, gt_bg_dev):
    """Sum of the enhanced-alignment matrix from the (pred fg & gt fg) and (pred fg & gt bg)
    counts. ``gt_*_dev`` are the demeaned mask values (1 - mean, -mean) and their squares."""
    pred_fg = fg_fg + fg_bg
    pred_bg = size - pred_fg
    bg_fg = num_gt - fg_fg
    bg_bg = pred_bg - bg_fg
    mean_pred = pred_fg / size
    pred_fg_dev = 1 - mean_pred
    pred_bg_dev = 0 - mean_pred
    total = None
    for count, pred_dev, (gt_dev, gt_dev_sq) in (
            (fg_fg, pred_fg_dev, gt_fg_dev), (fg_bg, pred_fg_dev, gt_bg_dev),
            (bg_fg, pred_bg_dev, gt_fg_dev), (bg_bg, pred_bg_dev, gt_bg_dev)):
        align = 2 * (pred_dev * gt_dev) / (pred_dev ** 2 + gt_dev_sq + EPS)
        part = (align + 1) ** 2 / 4 * count
        total = part if total is None else total + part
    return total


def _gt_deviations(num_gt: int, size: int):
    """Demeaned mask values and their squares, as Python floats (as PySODMetrics computes)."""
    mean_gt = num_gt / size
    fg_dev, bg_dev = 1 - mean_gt, 0 - mean_gt
    return (fg_dev, fg_dev ** 2), (bg_dev, bg_dev ** 2)


def emeasure_from_counts(fg_fg: np.ndarray, fg_bg: np.ndarray, num_gt: int,
                         size: int) -> np.ndarray:
    """E-measure at every threshold of one image from its per-threshold counts."""
    if num_gt == 0:
        enhanced = size - (fg_fg + fg_bg)
    elif num_gt == size:
        enhanced = fg_fg + fg_bg
    else:
        enhanced = _enhanced_sum(fg_fg, fg_bg, num_gt, size, *_gt_deviations(num_gt, size))
    return enhanced / (size - 1 + EPS if size > 1 else 1)


def emeasure_curves(true_pos: np.ndarray, false_pos: np.ndarray, num_gt: np.ndarray,
                    size: np.ndarray) -> np.ndarray:
    """Per-image E-measure curves, an ``(N, n)`` array, from per-threshold counts."""
    curves = np.empty(true_pos.shape, dtype=np.float64)
    for i in range(true_pos.shape[0]):
        curves[i] = emeasure_from_counts(true_pos[i], false_pos[i], int(num_gt[i]), int(size[i]))
    return curves


def emeasure_at_threshold(pred: np.ndarray, gt: np.ndarray, threshold: float,
                          compare: str = '>=') -> float:
    """E-measure of ``pred`` binarised at ``threshold``."""
    binary = binarize(pred, threshold, compare)
    fg_fg = np.count_nonzero(binary & gt)
    fg_bg = np.count_nonzero(binary & ~gt)
    return float(emeasure_from_counts(fg_fg, fg_bg, np.count_nonzero(gt), gt.size))


def adaptive_emeasure(pred: np.ndarray, gt: np.ndarray, compare: str = '>=',
                      clip: bool = True) -> float:
    """E-measure at the adaptive threshold ``min(2 * mean, 1)``."""
    return emeasure_at_threshold(pred, gt, adaptive_threshold(pred, clip), compare)
