"""S-measure (Fan et al. ICCV'17): object-aware plus region-aware structural similarity.

Arithmetic as in PySODMetrics 1.6.2 ``Smeasure`` (itself Fan's MATLAB code): std with
``ddof=1``, centroid rounded then shifted by one for MATLAB's 1-based ranges, variances over
``N - 1 + eps``. One deliberate difference: a quadrant with no pixel (mask centroid on the
last row or column) has weight 0 and adds 0, where PySODMetrics returns NaN.
"""
import numpy as np

from .prepare import EPS


def smeasure(pred: np.ndarray, gt: np.ndarray, alpha: float = 0.5) -> float:
    """S-measure of a [0, 1] float map against a boolean mask."""
    num_gt = np.count_nonzero(gt)
    gt_mean = num_gt / gt.size
    if gt_mean == 0:
        return float(1 - np.mean(pred))
    if gt_mean == 1:
        return float(np.mean(pred))
    object_score = _object_score(pred, gt, gt_mean) * alpha
    region_score = _region_score(pred, gt, num_gt) * (1 - alpha)
    return float(np.maximum(0, object_score + region_score))


def _s_object(values: np.ndarray) -> float:
    mean = np.mean(values)
    if values.size > 1:
        # np.std(values, ddof=1) operation for operation (numpy's _var), the mean reused.
        deviation = values - mean
        std = np.sqrt(np.sum(deviation * deviation) / (values.size - 1))
    else:
        std = 0
    return 2 * mean / (np.power(mean, 2) + 1 + std + EPS)


def _object_score(pred: np.ndarray, gt: np.ndarray, gt_mean: float) -> float:
    fg_score = _s_object(pred[gt]) * gt_mean
    bg_score = _s_object(1 - pred[~gt]) * (1 - gt_mean)
    return fg_score + bg_score


def _centroid(gt: np.ndarray, num_gt: int):
    """Rounded foreground centroid (row, col), the same float as ``argwhere(gt).mean(0)``."""
    rows = int(np.dot(np.arange(gt.shape[0]), np.count_nonzero(gt, axis=1)))
    cols = int(np.dot(np.arange(gt.shape[1]), np.count_nonzero(gt, axis=0)))
    return round(rows / num_gt), round(cols / num_gt)


def _region_score(pred: np.ndarray, gt: np.ndarray, num_gt: int) -> float:
    h, w = gt.shape
    area = h * w
    cy, cx = _centroid(gt, num_gt)
    cy, cx = cy + 1, cx + 1  # MATLAB's 1-based ``1:X`` includes X
    w_lt = cx * cy / area
    w_rt = cy * (w - cx) / area
    w_lb = (h - cy) * cx / area
    w_rb = 1 - w_lt - w_rt - w_lb
    return (_ssim(pred[0:cy, 0:cx], gt[0:cy, 0:cx]) * w_lt
            + _ssim(pred[0:cy, cx:w], gt[0:cy, cx:w]) * w_rt
            + _ssim(pred[cy:h, 0:cx], gt[cy:h, 0:cx]) * w_lb
            + _ssim(pred[cy:h, cx:w], gt[cy:h, cx:w]) * w_rb)


def _ssim(pred: np.ndarray, gt: np.ndarray) -> float:
    """SSIM-like score of one quadrant; 0 for an empty quadrant (its weight is 0)."""
    if pred.size == 0:
        return 0.0
    num = pred.size
    x = np.mean(pred)
    y = np.mean(gt)
    # The deviations are computed once (PySODMetrics computes each twice: same values).
    dev_x = pred - x
    dev_y = gt - y
    sigma_x = np.sum(dev_x * dev_x) / (num - 1 + EPS)
    sigma_y = np.sum(dev_y * dev_y) / (num - 1 + EPS)
    sigma_xy = np.sum(dev_x * dev_y) / (num - 1 + EPS)
    alpha = 4 * x * y * sigma_xy
    beta = (x ** 2 + y ** 2) * (sigma_x + sigma_y)
    if alpha != 0:
        return alpha / (beta + EPS)
    return 1.0 if beta == 0 else 0.0
