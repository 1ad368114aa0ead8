"""SOD evaluation: metrics, protocols, the Runner metric, folder evaluation, tables.

Public API:
    SODMetric                         mmengine metric (registered in METRICS)
    EvalProtocol, get_protocol, PRESETS
    image_statistics, aggregate_statistics, evaluate_pairs   plain functions on arrays
    evaluate_folders, evaluate_folder, match_folder          saved maps vs masks
    format_table, write_results, load_curves                 tables and files
    read_map, write_map                                      8-bit map I/O
and the low-level metric functions in ``salbox.evaluation.functional``.

``SODMetric`` needs mmengine (and so torch): it is imported on first access (module
``__getattr__``, PEP 562), so the plain functions and ``tools/eval_maps.py`` never import
either. The registries import ``salbox.evaluation.sod_metric`` themselves when a config
names ``type='SODMetric'`` (``locations`` in ``salbox/registry.py``).
"""
from salbox.utils.lazy_exports import lazy_exports
from .folder_eval import (EvaluationInputError, MatchReport, evaluate_folder, evaluate_folders,
                          match_folder)
from .functional import (METRIC_NAMES, adaptive_emeasure, adaptive_fmeasure,
                         aggregate_statistics, evaluate_pairs, image_statistics, mae,
                         smeasure, weighted_fmeasure)
from .map_io import list_maps, read_map, write_map
from .protocols import PRESETS, EvalProtocol, get_protocol
from .table import format_table, load_curves, to_csv, to_markdown, write_results

__all__ = [
    'SODMetric', 'EvalProtocol', 'get_protocol', 'PRESETS', 'METRIC_NAMES',
    'image_statistics', 'aggregate_statistics', 'evaluate_pairs', 'mae', 'adaptive_fmeasure',
    'smeasure', 'adaptive_emeasure', 'weighted_fmeasure', 'evaluate_folders',
    'evaluate_folder', 'match_folder', 'MatchReport', 'EvaluationInputError', 'format_table',
    'to_csv', 'to_markdown', 'write_results', 'load_curves', 'read_map', 'write_map', 'list_maps'
]

__getattr__, __dir__ = lazy_exports(__name__, {'SODMetric': '.sod_metric'})
