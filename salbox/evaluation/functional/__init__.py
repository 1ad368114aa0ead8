"""Plain SOD metric functions, usable without mmengine's Runner.

Low level (PySODMetrics-style, on a normalised float64 map and a boolean mask): ``mae``,
``adaptive_fmeasure``, ``precision_recall``, ``fmeasure_from_pr``, ``smeasure``,
``adaptive_emeasure``, ``emeasure_at_threshold``, ``weighted_fmeasure``.
High level (raw uint8/float maps plus a protocol): ``image_statistics``,
``aggregate_statistics``, ``evaluate_pairs``.
"""
from .emeasure import adaptive_emeasure, emeasure_at_threshold, emeasure_curves
from .fmeasure import adaptive_fmeasure, cumulative_counts, fmeasure_from_pr, precision_recall
from .mae import mae
from .prepare import (EPS, adaptive_threshold, binarize, level_histograms, normalize_map,
                      threshold_levels, to_uint8, to_unit_float)
from .smeasure import smeasure
from .statistics import (CURVE_NAMES, METRIC_NAMES, aggregate_statistics, check_metrics,
                         evaluate_pairs, image_statistics, prepare_pair)
from .weighted_fmeasure import matlab_gaussian_kernel, weighted_fmeasure

__all__ = [
    'EPS', 'METRIC_NAMES', 'CURVE_NAMES', 'mae', 'adaptive_fmeasure', 'precision_recall',
    'cumulative_counts', 'fmeasure_from_pr', 'smeasure', 'adaptive_emeasure',
    'emeasure_at_threshold', 'emeasure_curves', 'weighted_fmeasure', 'matlab_gaussian_kernel',
    'adaptive_threshold', 'binarize', 'normalize_map', 'threshold_levels', 'level_histograms',
    'to_uint8', 'to_unit_float', 'prepare_pair', 'image_statistics', 'aggregate_statistics',
    'evaluate_pairs', 'check_metrics'
]
