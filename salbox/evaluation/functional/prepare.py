"""Turning raw maps into what the metrics take: a float64 prediction and a boolean mask.

The float arithmetic copies PySODMetrics 1.6.2 ``utils.prepare_data`` operation by operation
(``u8 / 255``, then ``(p - min) / (max - min)`` unless the map is constant), so salbox
reproduces its numbers bit for bit.
"""
from typing import Tuple

import cv2
import numpy as np

EPS = np.spacing(1)  # MATLAB eps, as PySODMetrics uses it
UNIT_LEVELS = np.arange(256) / 255  # the float value of each 8-bit level, as u8 / 255
_BLOCK = 1 << 20  # pixels per block when a large map is rounded to 8 bits

_CV2_INTERPOLATION = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
}


UINT8_RULES = ('round', 'truncate')


def to_uint8(saliency: np.ndarray, rule: str = 'round') -> np.ndarray:
    """A [0, 1] float map in 8 bits: the one place salbox turns float maps into uint8.

    ``rule='round'`` (salbox's, how it saves and scores maps): ``rint(255 * clip(p, 0, 1))``
    in float64. ``rule='truncate'`` (R3Net's official ``infer.py``: torchvision's
    ``ToPILImage`` does ``mul(255).byte()``, and ``misc.py crf_refine`` returns
    ``(Q * 255).astype('uint8')``): ``255 * p`` in float32, truncated toward zero. The two
    differ exactly where the fractional part of ``255 * p`` is at least 0.5.
    """
    if rule not in UINT8_RULES:
        raise ValueError(f'uint8 rule must be one of {UINT8_RULES}, got {rule!r}')
    saliency = np.asarray(saliency)
    if saliency.dtype == np.uint8:
        return saliency
    if saliency.dtype == bool:
        return saliency.astype(np.uint8) * 255
    if rule == 'truncate':
        return (np.clip(saliency.astype(np.float32), 0, 1) * np.float32(255)).astype(np.uint8)
    if saliency.ndim < 2 or saliency.size <= _BLOCK:
        return np.rint(np.clip(saliency.astype(np.float64), 0, 1) * 255).astype(np.uint8)
    # Large maps in row blocks: the same float64 arithmetic, without 24 bytes per pixel of
    # temporaries for a whole photo (docs/bad_input.md, "Memory and large runs").
    out = np.empty(saliency.shape, np.uint8)
    rows = max(1, _BLOCK // max(1, saliency[0].size))
    for top in range(0, saliency.shape[0], rows):
        block = saliency[top:top + rows].astype(np.float64)
        np.clip(block, 0, 1, out=block)
        block *= 255
        out[top:top + rows] = np.rint(block, out=block)
    return out


def as_2d(saliency, what: str = 'map') -> np.ndarray:
    """Drop a singleton channel axis (``(1, H, W)`` or ``(H, W, 1)``); check the map is 2-D."""
    saliency = np.asarray(saliency)
    if saliency.ndim == 3 and 1 in (saliency.shape[0], saliency.shape[-1]):
        saliency = saliency.reshape(saliency.shape[1:] if saliency.shape[0] == 1
                                    else saliency.shape[:2])
    if saliency.ndim != 2:
        raise ValueError(f'{what} must be a 2-D grey map, got shape {saliency.shape}')
    if saliency.dtype != np.uint8 and saliency.dtype != bool:
        if not np.issubdtype(saliency.dtype, np.floating):
            raise TypeError(f'{what} must be uint8 (0-255), bool or float in [0, 1], '
                            f'got {saliency.dtype}')
        if np.isnan(saliency).any():
            raise ValueError(f'{what} contains NaN')
    return saliency


def to_unit_float(saliency, quantize: bool = True, what: str = 'map') -> np.ndarray:
    """Return a 2-D float64 map in [0, 1] from uint8 (0-255), bool or float ([0, 1]) input.

    ``quantize`` rounds float input to 8 bits first, as a PNG would hold it. A singleton
    channel axis (``(1, H, W)`` or ``(H, W, 1)``) is dropped. NaN raises ``ValueError``.
    """
    saliency = as_2d(saliency, what)
    if saliency.dtype == np.uint8:
        return saliency / 255
    if saliency.dtype == bool:
        return saliency.astype(np.float64)
    if quantize:
        return to_uint8(saliency) / 255
    return np.clip(saliency.astype(np.float64), 0, 1)


def normalization_lut(pred_u8: np.ndarray, mode: str) -> np.ndarray:
    """The normalised value of each 8-bit level for this map: ``lut[pred_u8]`` equals
    ``normalize_map(pred_u8 / 255, mode)`` element for element (same float operations)."""
    return normalize_map(UNIT_LEVELS, mode, low=UNIT_LEVELS[pred_u8.min()],
                         high=UNIT_LEVELS[pred_u8.max()])


def normalize_map(pred: np.ndarray, mode: str, low=None, high=None) -> np.ndarray:
    """``'minmax'`` (constant maps unchanged, as PySODMetrics), ``'max'`` or ``'none'``.

    ``low``/``high`` default to the map's min and max.
    """
    if mode == 'none':
        return pred
    high = pred.max() if high is None else high
    if mode == 'minmax':
        low = pred.min() if low is None else low
        if high != low:
            pred = (pred - low) / (high - low)
        return pred
    if mode == 'max':
        return pred / high if high > 0 else np.zeros_like(pred)
    raise ValueError(f'unknown normalisation {mode!r}')


def binarize(values: np.ndarray, threshold: float, compare: str) -> np.ndarray:
    """``values > threshold`` or ``values >= threshold``."""
    return values >= threshold if compare == '>=' else values > threshold


def resize_to(pred: np.ndarray, shape: Tuple[int, int], mode: str) -> np.ndarray:
    """Resize a float map to ``shape`` (h, w) with a cv2 interpolation; values stay in [0, 1]."""
    resized = cv2.resize(pred, (shape[1], shape[0]), interpolation=_CV2_INTERPOLATION[mode])
    return np.clip(resized, 0, 1)


def adaptive_threshold(pred: np.ndarray, clip: bool = True) -> float:
    """``min(2 * mean(pred), 1)`` (Achanta et al. CVPR'09; clipped as Fan's 2020 code)."""
    threshold = 2 * pred.mean()
    return min(threshold, 1) if clip else threshold


def threshold_levels(pred: np.ndarray, num_thresholds: int = 256, compare: str = '>=',
                     quantize: bool = True) -> np.ndarray:
    """Per pixel, the index of the highest threshold it passes (-1 if none).

    Thresholds are ``k / (n - 1)``. A pixel passes threshold ``k`` exactly when its level is
    ``>= k``, so one histogram of levels gives the counts at every threshold. With
    ``quantize`` the comparison is made on ``floor(p * (n - 1))`` (PySODMetrics'
    ``(pred * 255).astype(uint8)``), otherwise on the float value itself.
    """
    top = num_thresholds - 1
    if quantize:
        levels = (pred * top).astype(np.int64)
        return levels if compare == '>=' else levels - 1
    thresholds = np.arange(num_thresholds) / top
    side = 'right' if compare == '>=' else 'left'
    return np.searchsorted(thresholds, pred, side=side) - 1


def level_histograms(levels: np.ndarray, gt: np.ndarray,
                     num_thresholds: int = 256) -> Tuple[np.ndarray, np.ndarray]:
    """Counts of foreground and background pixels per threshold level (ascending order)."""
    n = num_thresholds
    index = (levels + 1).ravel() + (n + 1) * gt.ravel()
    counts = np.bincount(index, minlength=2 * (n + 1))
    return counts[n + 2:], counts[1:n + 1]
