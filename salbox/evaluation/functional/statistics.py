"""Per-image statistics and their aggregation into data-set scores and curves.

An image is reduced to a few scalars plus two histograms of threshold levels (foreground and
background pixels, ``n`` counts each); every threshold-based score (P, R, F, E curves) is
rebuilt from those counts at aggregation, vectorised over images. Nothing keeps whole maps.
"""
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..protocols import EvalProtocol, get_protocol
from .emeasure import emeasure_curves, emeasure_from_counts
from .fmeasure import cumulative_counts, fmeasure_from_counts, fmeasure_from_pr, precision_recall
from .mae import mae
from .prepare import (UNIT_LEVELS, adaptive_threshold, as_2d, binarize, level_histograms,
                      normalization_lut, normalize_map, resize_to, threshold_levels, to_uint8,
                      to_unit_float)
from .smeasure import smeasure
from .weighted_fmeasure import weighted_fmeasure

METRIC_NAMES = ('MAE', 'maxF', 'meanF', 'adpF', 'Sm', 'maxEm', 'meanEm', 'adpEm', 'wF')
CURVE_METRICS = frozenset({'maxF', 'meanF', 'maxEm', 'meanEm'})
CURVE_NAMES = ('thresholds', 'precision', 'recall', 'fmeasure', 'emeasure')

ProtocolLike = Union[str, dict, EvalProtocol, None]
_EXACT_FLOAT32_COUNT = 2 ** 24  # cv2.calcHist counts in float32: exact below 2^24 pixels


def check_metrics(metrics: Union[str, Iterable[str], None]) -> Tuple[str, ...]:
    """Validate metric names and return them in the canonical order."""
    if metrics is None:
        return METRIC_NAMES
    wanted = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in wanted if m not in METRIC_NAMES]
    if unknown:
        raise KeyError(f'unknown metric(s) {unknown}; available: {list(METRIC_NAMES)}')
    if not wanted:
        raise ValueError('no metric selected')
    return tuple(m for m in METRIC_NAMES if m in wanted)


class PreparedPair:
    """One pair under a protocol's input conventions.

    ``pred`` (normalised float64), ``gt`` (boolean mask), ``mae_pred``/``mae_gt`` (what MAE
    compares). For 8-bit input (the usual case) ``pred_u8`` and ``lut`` are set too:
    ``pred == lut[pred_u8]``, which lets every threshold count come from one 256-bin
    histogram of the map instead of passes over the float image, and MAE read its
    per-pixel errors from a 512-entry table (``mae_table``) instead of float arithmetic on
    the image (the table holds the same float results, so the mean is bit-identical).
    """

    def __init__(self, pred, gt, mae_pred, mae_gt, pred_u8=None, lut=None, mae_table=None):
        self.pred, self.gt, self.mae_pred, self.mae_gt = pred, gt, mae_pred, mae_gt
        self.pred_u8, self.lut, self.mae_table = pred_u8, lut, mae_table
        self._value_counts = None
        self._index = None

    def level_index(self):
        """Per pixel, ``pred_u8 + 256 * gt`` (computed once, shared by counts and MAE)."""
        if self._index is None:
            index = self.pred_u8.astype(np.intp)
            index[self.gt] += 256
            self._index = index
        return self._index

    def value_counts(self):
        """Foreground and background pixel counts of every 8-bit level of the map."""
        if self._value_counts is None:
            if self.pred_u8.size < _EXACT_FLOAT32_COUNT:  # cv2 counts in float32
                hist = [self.pred_u8]
                fg = cv2.calcHist(hist, [0], self.gt.view(np.uint8), [256], [0, 256])
                total = cv2.calcHist(hist, [0], None, [256], [0, 256])
                fg, total = fg.ravel().astype(np.int64), total.ravel().astype(np.int64)
                self._value_counts = fg, total - fg
            else:
                counts = np.bincount(self.level_index().ravel(), minlength=512)
                self._value_counts = counts[256:], counts[:256]
        return self._value_counts

    def mae(self) -> float:
        """``mean(|mae_pred - mae_gt|)``, from the error table when there is one."""
        if self.mae_table is None:
            return mae(self.mae_pred, self.mae_gt)
        errors = lookup(self.pred_u8, self.mae_table[:256])
        np.copyto(errors, lookup(self.pred_u8, self.mae_table[256:]), where=self.gt)
        return float(np.mean(errors))

    def level_histograms(self, protocol: EvalProtocol):
        """Foreground/background counts per threshold level (see ``threshold_levels``)."""
        n = protocol.num_thresholds
        if self.lut is None:
            levels = threshold_levels(self.pred, n, protocol.pred_compare,
                                      protocol.quantize_levels)
            return level_histograms(levels, self.gt, n)
        levels = threshold_levels(self.lut, n, protocol.pred_compare, protocol.quantize_levels)
        # Levels absent from the map may normalise outside [0, 1]; their counts are 0.
        levels = np.clip(levels, -1, n - 1)
        fg, bg = self.value_counts()
        return tuple(np.bincount(levels + 1, weights=c, minlength=n + 1)[1:].astype(np.int64)
                     for c in (fg, bg))

    def counts_at(self, threshold: float, compare: str):
        """(pred fg & gt fg, pred fg & gt bg) pixel counts at one threshold."""
        if self.lut is None:
            binary = binarize(self.pred, threshold, compare)
            return int(np.count_nonzero(binary & self.gt)), int(np.count_nonzero(binary & ~self.gt))
        passing = binarize(self.lut, threshold, compare)
        fg, bg = self.value_counts()
        return int(fg[passing].sum()), int(bg[passing].sum())


def prepare_pair(pred: np.ndarray, gt: np.ndarray, protocol: ProtocolLike = None,
                 where: Optional[str] = None) -> PreparedPair:
    """Apply a protocol's input conventions (8-bit rounding, resizing, normalisation, mask
    threshold) to one pair. ``where`` (e.g. the image path) is named in any error."""
    protocol = get_protocol(protocol)
    label = f' of {where}' if where else ''
    pred = as_2d(pred, f'prediction{label}')
    gt = as_2d(gt, f'ground truth{label}')
    if pred.shape != gt.shape and protocol.resize is None:
        raise ValueError(f'prediction size {pred.shape} differs from ground-truth size '
                         f'{gt.shape}{label}; resize the maps or choose a protocol '
                         f"with resize (e.g. resize='bilinear')")
    eight_bit = protocol.quantize_input or (pred.dtype == np.uint8 and gt.dtype == np.uint8)
    if eight_bit and pred.shape == gt.shape:
        return _prepare_8bit(to_uint8(pred), to_uint8(gt), protocol)
    pred01 = to_unit_float(pred, protocol.quantize_input)
    gt01 = to_unit_float(gt, protocol.quantize_input)
    if pred01.shape != gt01.shape:
        pred01 = resize_to(pred01, gt01.shape, protocol.resize)
    gt_mask = binarize(gt01, protocol.gt_threshold, protocol.gt_compare)
    pred_norm = normalize_map(pred01, protocol.normalize)
    if protocol.mae_normalization == protocol.normalize:
        mae_pred = pred_norm
    else:
        mae_pred = normalize_map(pred01, protocol.mae_normalization)
    mae_gt = gt01 if protocol.mae_gt == 'soft' else gt_mask
    return PreparedPair(pred_norm, gt_mask, mae_pred, mae_gt)


def lookup(levels: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[levels]`` for an 8-bit image and a 256-entry table (cv2.LUT: a copy of the
    table's values, several times faster than numpy's fancy indexing)."""
    if table.dtype == bool:
        return cv2.LUT(levels, table.view(np.uint8)).view(bool)
    return cv2.LUT(levels, table)


def _prepare_8bit(pred_u8: np.ndarray, gt_u8: np.ndarray, protocol: EvalProtocol) -> PreparedPair:
    pred_u8, gt_u8 = np.ascontiguousarray(pred_u8), np.ascontiguousarray(gt_u8)
    lut = normalization_lut(pred_u8, protocol.normalize)
    pred_norm = lookup(pred_u8, lut)
    gt_mask = lookup(gt_u8, binarize(UNIT_LEVELS, protocol.gt_threshold, protocol.gt_compare))
    if protocol.mae_normalization == protocol.normalize:
        mae_pred = pred_norm
    else:
        mae_pred = lookup(pred_u8, normalization_lut(pred_u8, protocol.mae_normalization))
    mae_gt = lookup(gt_u8, UNIT_LEVELS) if protocol.mae_gt == 'soft' else gt_mask
    mae_table = None
    if protocol.mae_gt == 'binary' and protocol.mae_normalization == protocol.normalize:
        # |p - 0| on the background, |p - 1| on the mask: the same float operations.
        mae_table = np.concatenate([np.abs(lut - 0.0), np.abs(lut - 1.0)])
    return PreparedPair(pred_norm, gt_mask, mae_pred, mae_gt, pred_u8, lut, mae_table)


def image_statistics(pred: np.ndarray, gt: np.ndarray, protocol: ProtocolLike = None,
                     metrics: Optional[Sequence[str]] = None, keep_curves: bool = True,
                     where: Optional[str] = None) -> dict:
    """Reduce one (prediction, ground truth) pair to what the data-set scores need.

    ``pred``/``gt``: 2-D (or ``(1, H, W)``) uint8 0-255, bool, or float in [0, 1].
    ``where`` (e.g. the image path) is named in any error.
    """
    protocol = get_protocol(protocol)
    metrics = check_metrics(metrics)
    pair = prepare_pair(pred, gt, protocol, where)
    num_gt, size = int(np.count_nonzero(pair.gt)), int(pair.gt.size)
    stats = {'num_gt': num_gt, 'size': size}
    if 'MAE' in metrics:
        stats['MAE'] = pair.mae()
    if keep_curves or CURVE_METRICS.intersection(metrics):
        stats['fg_hist'], stats['bg_hist'] = pair.level_histograms(protocol)
    if 'adpF' in metrics or 'adpEm' in metrics:
        threshold = adaptive_threshold(pair.pred, protocol.adaptive_clip)
        fg_fg, fg_bg = pair.counts_at(threshold, protocol.pred_compare)
        if 'adpF' in metrics:
            stats['adpP'], stats['adpR'], stats['adpF'] = fmeasure_from_counts(
                fg_fg, fg_fg + fg_bg, num_gt, protocol.beta2, protocol.eps)
        if 'adpEm' in metrics:
            stats['adpEm'] = float(emeasure_from_counts(fg_fg, fg_bg, num_gt, size))
    if 'Sm' in metrics:
        stats['Sm'] = smeasure(pair.pred, pair.gt, protocol.alpha)
    if 'wF' in metrics:
        stats['wF'] = weighted_fmeasure(pair.pred, pair.gt, protocol.wf_beta)
    return stats


def aggregate_statistics(stats: Iterable[dict], protocol: ProtocolLike = None,
                         metrics: Optional[Sequence[str]] = None
                         ) -> Tuple[Dict[str, float], Optional[Dict[str, np.ndarray]]]:
    """Data-set scores (``{metric: float}``) and curves from per-image statistics.

    Curves (``None`` when no histogram was kept) hold ``thresholds`` (ascending, ``k/(n-1)``)
    and the matching ``precision``, ``recall``, ``fmeasure`` and ``emeasure`` arrays.
    ``stats`` may be any iterable (a generator keeps memory flat, see ``StatisticsAccumulator``).
    """
    accumulator = StatisticsAccumulator(protocol, metrics)
    for item in stats:
        accumulator.add(item)
    return accumulator.result()


class StatisticsAccumulator:
    """Data-set scores from per-image statistics added one at a time, in memory that does
    not grow with the number of images' pixels or histograms: each image's P, R, F and E
    curves are added to running sums as it arrives (row by row, the order in which
    ``np.mean(curves, axis=0)`` adds rows, so the result is bit-identical to stacking), and
    only a few floats per image are kept for the per-image scalar metrics (whose mean
    PySODMetrics takes over the whole array at once).
    """

    _SCALARS = ('MAE', 'adpF', 'Sm', 'adpEm', 'wF')

    def __init__(self, protocol: ProtocolLike = None, metrics: Optional[Sequence[str]] = None):
        self.protocol = get_protocol(protocol)
        self.metrics = check_metrics(metrics)
        self.count = 0
        self.scalars = {name: [] for name in self._SCALARS if name in self.metrics}
        self.sums = None  # running sums of the precision/recall/fmeasure/emeasure curves
        self.max_f = []  # per-image max F ('per_image' aggregation only)

    def add(self, stats: dict) -> None:
        for name, values in self.scalars.items():
            if name not in stats:
                raise KeyError(f'the statistics do not hold what {[name]} need')
            values.append(stats[name])
        has_curves = 'fg_hist' in stats
        if self.count and has_curves != (self.sums is not None):
            raise ValueError('some images have threshold histograms and some do not')
        self.count += 1
        if has_curves:
            self._add_curves(stats)

    def _add_curves(self, stats: dict) -> None:
        protocol = self.protocol
        true_pos, false_pos = cumulative_counts(stats['fg_hist'][None], stats['bg_hist'][None])
        num_gt = np.array([stats['num_gt']], dtype=np.int64)
        size = np.array([stats['size']], dtype=np.int64)
        precision, recall = precision_recall(true_pos, false_pos, num_gt, protocol.eps)
        fmeasure = fmeasure_from_pr(precision, recall, protocol.beta2)
        emeasure = emeasure_curves(true_pos, false_pos, num_gt, size)
        rows = (precision[0], recall[0], fmeasure[0], emeasure[0])
        if self.sums is None:
            self.sums = [np.zeros_like(row, dtype=np.float64) for row in rows]
        for total, row in zip(self.sums, rows):
            total += row
        if protocol.maxf_aggregation == 'per_image':
            self.max_f.append(float(np.max(fmeasure[0])))

    def result(self) -> Tuple[Dict[str, float], Optional[Dict[str, np.ndarray]]]:
        if not self.count:
            raise ValueError('no image to aggregate: the statistics list is empty')
        values = {name: float(np.mean(np.array(v, dtype=np.float64)))
                  for name, v in self.scalars.items()}
        curves = None
        if self.sums is not None:
            curves, curve_values = self._curves()
            values.update({k: v for k, v in curve_values.items() if k in self.metrics})
        missing = [m for m in self.metrics if m not in values]
        if missing:
            raise KeyError(f'the statistics do not hold what {missing} need')
        return {m: values[m] for m in self.metrics}, curves

    def _curves(self):
        protocol = self.protocol
        p_curve, r_curve, mean_f, e_curve = (total / self.count for total in self.sums)
        if protocol.maxf_aggregation == 'mean_pr':
            f_curve = fmeasure_from_pr(p_curve, r_curve, protocol.beta2)
        else:
            f_curve = mean_f
        if protocol.maxf_aggregation == 'per_image':
            max_f = float(np.mean(np.array(self.max_f, dtype=np.float64)))
        else:
            max_f = float(f_curve.max())
        values = {'maxF': max_f, 'meanF': float(f_curve.mean()),
                  'maxEm': float(e_curve.max()), 'meanEm': float(e_curve.mean())}
        n = protocol.num_thresholds
        curves = {'thresholds': np.arange(n) / (n - 1), 'precision': p_curve[::-1].copy(),
                  'recall': r_curve[::-1].copy(), 'fmeasure': f_curve[::-1].copy(),
                  'emeasure': e_curve[::-1].copy()}
        return curves, values


def evaluate_pairs(pairs: Iterable[Tuple[np.ndarray, np.ndarray]], protocol: ProtocolLike = None,
                   metrics: Optional[Sequence[str]] = None):
    """Evaluate an iterable of ``(pred, gt)`` arrays; returns ``(scores, curves)``."""
    protocol = get_protocol(protocol)
    stats = (image_statistics(p, g, protocol, metrics, where=f'pair {i}')
             for i, (p, g) in enumerate(pairs))
    return aggregate_statistics(stats, protocol, metrics)
