"""Weighted F-measure (Margolin et al. CVPR'14, Fan's ``original_WFb.m``).

Same arithmetic as PySODMetrics 1.6.2 ``WeightedFmeasure`` (bit-exact: every float operation
that reaches the score is the same operation on the same operands, in the same order), but
it only computes what the score reads:

* Pixel dependency. MATLAB/scipy replace the error of every background pixel by the error of
  its nearest foreground pixel (``bwdist`` indices over the whole image), then filter with
  ``fspecial('gaussian', 7, 5)`` and read the result on the mask only. The 7x7 filter at a
  mask pixel reaches background pixels within 3 px (Chebyshev) of the mask, the "band", so
  only the band needs its nearest foreground pixel. Among equally near foreground pixels,
  scipy's feature transform (Maurer et al., PAMI 2003, ``ni_morphology.c``: ``_VoronoiFT``
  keeps the first of equal candidates, first along rows, then along columns) returns the one
  with the smallest column, then the smallest row; ``band_nearest`` takes each band pixel's
  exact squared distance ``d2`` from the transform computed for the pixel importance (below)
  and tries only the offsets with ``dy^2 + dx^2 = d2``, in exactly that order (without the
  distances, every offset within sqrt(18) px in that order). The filter runs on the mask's bounding box plus
  3 px only (zero padding, as ``imfilter`` and scipy's ``convolve(mode='constant')``).
  It is ``cv2.filter2D`` on float64, not scipy's ``convolve``: OpenCV filters a 7x7 kernel
  directly (its documentation: DFT only for kernels of about 11x11 or larger), each output
  the sum of the 49 products from 0 in kernel row-major order, which is also the order of
  scipy's ``NI_Correlate`` (the kernel is symmetric, so correlation is convolution). The two
  agree bit for bit on the 850 PASCAL-S masks and every generated pair of tests/evaluation
  (docs/evaluation.md), and cv2 is 3-4x faster. The separable form (``cv2.sepFilter2D``
  with the 1-D Gaussian) would be faster still but rounds differently (up to 9e-16 on the
  filtered errors), so it is not used.
* Pixel importance. ``2 - exp(log(0.5) / 5 * d)`` depends only on the integer squared
  distance ``d^2`` of a background pixel to the mask; cv2's exact (Felzenszwalb) transform
  gives ``d`` in float32, squaring and rounding recovers ``d^2``, and the weight is read from
  a table computed with the same numpy expression on ``sqrt(d^2)`` (scipy's ``d``). Images
  whose diagonal reaches 2048 px, where float32 no longer guarantees ``d^2``, use scipy.
* Nothing is recomputed: the mask sum is the pixel count, recall reuses the sum of the
  weighted mask errors (``np.mean`` is that sum over the count), and
  ``where(GT & (EA < E), EA, E)`` read on the mask is ``minimum(EA, E)`` there.
"""
from typing import Optional

import cv2
import numpy as np

from .prepare import EPS

_HALF = 3  # the 7x7 Gaussian reaches 3 px
_MAX_EXACT_SQUARED_DISTANCE = 2 ** 22
_MAX_FLOAT32_SQUARED_DISTANCE = 2 ** 20  # float32 d * d stays within 0.2 of d^2 below this
_BAND_KERNEL = np.ones((2 * _HALF + 1, 2 * _HALF + 1), np.uint8)
_SEARCH = 4  # a band pixel's nearest mask pixel is at most sqrt(3^2 + 3^2) < 5 px away
# Offsets (dy, dx) in scipy's tie order: distance, then column, then row.
_OFFSETS = [(dy, dx) for _, dx, dy in sorted(
    (dy * dy + dx * dx, dx, dy) for dy in range(-_SEARCH, _SEARCH + 1)
    for dx in range(-_SEARCH, _SEARCH + 1) if 0 < dy * dy + dx * dx <= 2 * _HALF * _HALF)]
# The same offsets by squared distance (a "ring"), padded with (0, 0), the pixel itself
# (never a mask pixel): row d2 lists the candidates of a pixel at squared distance d2.
_MAX_BAND_SQUARED = 2 * _HALF * _HALF
_RING_DY = np.zeros((_MAX_BAND_SQUARED + 1, 8), np.intp)
_RING_DX = np.zeros((_MAX_BAND_SQUARED + 1, 8), np.intp)
for _d2 in range(1, _MAX_BAND_SQUARED + 1):
    _ring = [(dy, dx) for dy, dx in _OFFSETS if dy * dy + dx * dx == _d2]
    _RING_DY[_d2, :len(_ring)] = [dy for dy, _ in _ring]
    _RING_DX[_d2, :len(_ring)] = [dx for _, dx in _ring]
_importance_table = np.ones(1)


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


def band_nearest(gt: np.ndarray, squared: Optional[np.ndarray] = None):
    """Background pixels within 3 px (Chebyshev) of the mask and their nearest mask pixel.

    Returns two flat (row-major) index arrays into ``gt``: the band pixels and, for each,
    the mask pixel scipy's ``distance_transform_edt(..., return_indices=True)`` names.
    ``squared``: the integer squared distance of every pixel of ``gt`` to the mask (computed
    when not given, see ``squared_distances``). A band pixel at squared distance ``d2`` has
    its nearest mask pixels on the ring of offsets with ``dy^2 + dx^2 = d2``; the first of
    them in scipy's tie order that is a mask pixel is the one scipy names.
    """
    h, w = gt.shape
    band = cv2.dilate(gt.view(np.uint8), _BAND_KERNEL).view(bool)
    band &= ~gt
    band_flat = np.flatnonzero(band)
    if band_flat.size == 0:
        return band_flat, band_flat
    ys, xs = np.divmod(band_flat, w)
    if squared is None:
        squared = squared_distances(gt)
    width = w + 2 * _SEARCH
    padded = np.zeros((h + 2 * _SEARCH, width), bool)
    padded[_SEARCH:_SEARCH + h, _SEARCH:_SEARCH + w] = gt
    where = band_flat + (ys * (2 * _SEARCH) + (_SEARCH * width + _SEARCH))
    if squared is not None:
        ring = squared[ys, xs]
        if ring.max() <= _MAX_BAND_SQUARED:
            dy, dx = _RING_DY[ring], _RING_DX[ring]
            hits = padded.ravel()[where[:, None] + (dy * width + dx)]
            first = np.argmax(hits, axis=1)
            rows = np.arange(first.size)
            if hits[rows, first].all():  # always, for exact distances
                return band_flat, band_flat + (dy[rows, first] * w + dx[rows, first])
    return band_flat, _search_offsets(padded.ravel(), where, band_flat, width, w)


def _search_offsets(padded, where, band_flat, width, w):
    """The nearest mask pixel of each band pixel by trying every offset in tie order (when
    the squared distances are not known)."""
    nearest = np.empty_like(band_flat)
    todo = np.arange(band_flat.size)
    for dy, dx in _OFFSETS:
        hit = padded[where[todo] + (dy * width + dx)]
        if not hit.any():
            continue
        found = todo[hit]
        nearest[found] = band_flat[found] + (dy * w + dx)
        todo = todo[~hit]
        if todo.size == 0:
            break
    return nearest


def squared_distances(gt: np.ndarray) -> Optional[np.ndarray]:
    """Integer squared Euclidean distance of every pixel to the nearest mask pixel (0 on the
    mask), or ``None`` when the image is too large for the cv2 path."""
    h, w = gt.shape
    if (h - 1) ** 2 + (w - 1) ** 2 >= _MAX_EXACT_SQUARED_DISTANCE:
        return None
    dist = cv2.distanceTransform((~gt).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    if (h - 1) ** 2 + (w - 1) ** 2 < _MAX_FLOAT32_SQUARED_DISTANCE:
        # One cv2 pass: d * d rounded to the nearest integer (saturate_cast rounds).
        return cv2.multiply(dist, dist, dtype=cv2.CV_32S)
    return np.rint(np.square(dist, dtype=np.float64)).astype(np.intp)


def squared_background_distances(gt: np.ndarray, background=None) -> np.ndarray:
    """``squared_distances`` of the background pixels (row-major order), or ``None``."""
    squared = squared_distances(gt)
    if squared is None:
        return None
    return squared[~gt if background is None else background]


def _importance(distance: np.ndarray) -> np.ndarray:
    """PySODMetrics' ``2 - exp(log(0.5) / 5 * Dst)`` (same expression, same operands)."""
    return 2 - np.exp(np.log(0.5) / 5 * distance)


def importance_of_squared(squared: np.ndarray) -> np.ndarray:
    """The importance weight of each integer squared distance, from a cached table."""
    global _importance_table
    top = int(squared.max()) if squared.size else 0
    if top >= _importance_table.size:
        size = max(1024, 1 << (top + 1).bit_length())
        _importance_table = _importance(np.sqrt(np.arange(size, dtype=np.float64)))
    return _importance_table[squared]


def weighted_fmeasure(pred: np.ndarray, gt: np.ndarray, beta: float = 1.0) -> float:
    """Weighted F-measure of a [0, 1] float map against a boolean mask (0 for an empty mask)."""
    gt = np.ascontiguousarray(gt, dtype=bool)
    left, top, width, height = cv2.boundingRect(gt.view(np.uint8))
    if width == 0:
        return 0.0
    h, w = gt.shape
    y0, y1 = max(top - _HALF, 0), min(top + height + _HALF, h)
    x0, x1 = max(left - _HALF, 0), min(left + width + _HALF, w)
    box_gt = np.ascontiguousarray(gt[y0:y1, x0:x1])
    error = np.abs(pred[y0:y1, x0:x1] - box_gt)

    # Pixel dependency: background errors take the error of the nearest foreground pixel;
    # only the band within the filter's reach is ever read, other pixels stay 0.
    squared = squared_distances(gt)  # also the pixel importance below
    box_squared = None if squared is None else squared[y0:y1, x0:x1]
    spread = np.where(box_gt, error, 0.0)
    band, nearest = band_nearest(box_gt, box_squared)
    spread.ravel()[band] = error.ravel()[nearest]
    smoothed = cv2.filter2D(spread, -1, _KERNEL, borderType=cv2.BORDER_CONSTANT)
    # where(gt & (EA < E), EA, E) on the mask == the smaller of the two (no NaN here).
    fg_weighted = np.minimum(smoothed[box_gt], error[box_gt])

    # Pixel importance: background errors weigh more the farther they are from the mask.
    background = ~gt
    if squared is None:  # large images: scipy's exact transform
        from scipy.ndimage import distance_transform_edt
        importance = _importance(distance_transform_edt(background)[background])
    else:
        importance = importance_of_squared(squared[background])
    bg_weighted = pred[background] * importance

    fg_sum = np.sum(fg_weighted)
    true_pos = np.count_nonzero(gt) - fg_sum
    false_pos = np.sum(bg_weighted)
    recall = 1 - fg_sum / fg_weighted.size
    precision = true_pos / (true_pos + false_pos + EPS)
    return float((1 + beta) * recall * precision / (recall + beta * precision + EPS))
