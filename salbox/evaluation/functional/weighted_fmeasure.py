"""Weighted F-measure (Margolin et al. CVPR'14, Fan's ``original_WFb.m``).

Same arithmetic as PySODMetrics 1.6.2 ``WeightedFmeasure`` (bit-exact), about 3x faster:

* The error at a background pixel is replaced by the error at its nearest foreground pixel
  (``bwdist`` indices), but only pixels within 3 px of the mask reach the 7x7 filter that
  is read on the mask, so the feature transform and the filter run on the mask's bounding
  box plus 3 px (all features lie inside it, so scipy's result there is unchanged).
* The background weights need the distance of every background pixel: cv2's exact
  (Felzenszwalb) transform gives it in float32, and squaring and rounding recovers the
  integer squared distance, whose float64 root is scipy's value exactly. Images whose
  diagonal reaches 2048 px, where float32 can no longer guarantee that, use scipy.
"""
import cv2
import numpy as np
from scipy.ndimage import convolve
from scipy.ndimage import distance_transform_edt

from .prepare import EPS

_HALF = 3  # the 7x7 Gaussian reaches 3 px
_MAX_EXACT_SQUARED_DISTANCE = 2 ** 22


def matlab_gaussian_kernel(size: int = 7, sigma: float = 5) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)``."""
    half = (size - 1) / 2
    y, x = np.ogrid[-half:half + 1, -half:half + 1]
    kernel = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    kernel[kernel < np.finfo(kernel.dtype).eps * kernel.max()] = 0
    total = kernel.sum()
    if total != 0:
        kernel /= total
    return kernel


_KERNEL = matlab_gaussian_kernel()


def background_distances(gt: np.ndarray, background=None) -> np.ndarray:
    """Euclidean distance to the nearest foreground pixel, for the background pixels
    (row-major order); float64 values identical to scipy's ``distance_transform_edt``."""
    h, w = gt.shape
    background = ~gt if background is None else background
    if (h - 1) ** 2 + (w - 1) ** 2 >= _MAX_EXACT_SQUARED_DISTANCE:
        return distance_transform_edt(background)[background]
    dist = cv2.distanceTransform(background.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    squared = np.rint(np.square(dist[background], dtype=np.float64))
    return np.sqrt(squared)


def weighted_fmeasure(pred: np.ndarray, gt: np.ndarray, beta: float = 1.0) -> float:
    """Weighted F-measure of a [0, 1] float map against a boolean mask (0 for an empty mask)."""
    gt = np.ascontiguousarray(gt, dtype=bool)
    rows = np.flatnonzero(gt.any(axis=1))
    if rows.size == 0:
        return 0.0
    cols = np.flatnonzero(gt.any(axis=0))
    h, w = gt.shape
    y0, y1 = max(rows[0] - _HALF, 0), min(rows[-1] + _HALF + 1, h)
    x0, x1 = max(cols[0] - _HALF, 0), min(cols[-1] + _HALF + 1, w)
    box_gt = gt[y0:y1, x0:x1]
    box_pred = pred[y0:y1, x0:x1]

    # Pixel dependency: background errors take the error of the nearest foreground pixel.
    error = np.abs(box_pred - box_gt)
    nearest = distance_transform_edt(~box_gt, return_distances=False, return_indices=True)
    # A foreground pixel is its own nearest foreground pixel, so one gather does it all.
    spread = error.ravel()[nearest[0] * error.shape[1] + nearest[1]]
    smoothed = convolve(spread, weights=_KERNEL, mode='constant', cval=0)
    min_error = np.where(box_gt & (smoothed < error), smoothed, error)
    fg_weighted = min_error[box_gt]

    # Pixel importance: background errors weigh more the farther they are from the mask.
    background = ~gt
    importance = 2 - np.exp(np.log(0.5) / 5 * background_distances(gt, background))
    bg_weighted = pred[background] * importance

    true_pos = np.sum(gt) - np.sum(fg_weighted)
    false_pos = np.sum(bg_weighted)
    recall = 1 - np.mean(fg_weighted)
    precision = true_pos / (true_pos + false_pos + EPS)
    return float((1 + beta) * recall * precision / (recall + beta * precision + EPS))
