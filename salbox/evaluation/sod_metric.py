"""SODMetric: the salbox evaluator for mmengine's Runner."""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from salbox.registry import METRICS
from .functional.statistics import (METRIC_NAMES, aggregate_statistics, check_metrics,
                                    image_statistics)
from .map_io import write_map
from .protocols import EvalProtocol, get_protocol
from .table import format_table, write_results


def _to_numpy(data) -> np.ndarray:
    if hasattr(data, 'detach'):
        data = data.detach().cpu().numpy()
    return np.asarray(data)


def _field(sample, key: str):
    """``sample[key]['data']`` for dict samples, ``sample.key.data`` for data elements."""
    value = sample.get(key) if isinstance(sample, dict) else getattr(sample, key, None)
    if value is None:
        return None
    return value['data'] if isinstance(value, dict) else value.data


@METRICS.register_module()
class SODMetric(BaseMetric):
    """Salient object detection metrics, grouped by test set.

    MAE, F-measure max/mean/adaptive (beta^2 = 0.3, Achanta et al. CVPR'09), S-measure
    (alpha 0.5, Fan et al. ICCV'17), E-measure max/mean/adaptive (Fan et al. IJCAI'18) and
    weighted F-measure (beta 1, Margolin et al. CVPR'14), under a named protocol (default
    ``'pysodmetrics'``: bit-exact with PySODMetrics 1.6.2; see ``salbox.evaluation.protocols``).

    ``process`` reduces each sample to per-image statistics (two threshold histograms and a
    few scalars, never the map); ``compute_metrics`` logs one table (a row per data set, the
    protocol named) and returns ``{'<dataset>/<metric>': value}``, plus plain ``'<metric>'``
    keys when there is a single data set (for ``save_best``).

    Args:
        metrics: subset of ``('MAE', 'maxF', 'meanF', 'adpF', 'Sm', 'maxEm', 'meanEm',
            'adpEm', 'wF')``.
        protocol: a preset name, a dict of overrides (``dict(preset='r3net', eps=0)``) or an
            ``EvalProtocol``.
        output_dir: when set, every prediction is written at once as an 8-bit PNG
            ``output_dir/<dataset_name>/<image stem>.png``.
        results_dir: when set, ``results.{csv,json,md}`` and ``curves.json`` are written there.
        keep_curves: keep PR / F / E curves (needed for ``curves.json`` and plots).
        method_name: the method column in written results (chosen default ``'salbox'``).
        plot_curves: also draw PR and F-threshold curves (PNG + PDF) into ``results_dir``.
        collect_device, prefix, collect_dir: as in mmengine's ``BaseMetric``.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 metrics: Sequence[str] = METRIC_NAMES,
                 protocol: Union[str, dict, EvalProtocol] = 'pysodmetrics',
                 output_dir: Optional[str] = None,
                 results_dir: Optional[str] = None,
                 keep_curves: bool = True,
                 method_name: str = 'salbox',
                 plot_curves: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.metrics = check_metrics(metrics)
        self.protocol = get_protocol(protocol)
        self.output_dir = output_dir
        self.results_dir = results_dir
        self.keep_curves = keep_curves
        self.method_name = method_name
        self.plot_curves = plot_curves

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            if hasattr(sample, 'to_dict'):
                sample = sample.to_dict()
            img_path = sample.get('img_path') or sample.get('gt_path') or '<unknown image>'
            dataset = sample.get('dataset_name') or 'default'
            pred = _field(sample, 'pred_sal_map')
            if pred is None:
                raise KeyError(f'no pred_sal_map in the data sample of {img_path}: the model '
                               f'must write its prediction before evaluation')
            pred = _to_numpy(pred)
            if self.output_dir:
                stem = osp.splitext(osp.basename(img_path))[0]
                write_map(osp.join(self.output_dir, dataset, stem + '.png'), pred)
            gt = _field(sample, 'gt_sal_map')
            if gt is None:
                raise KeyError(f'no gt_sal_map in the data sample of {img_path}: load the '
                               f'annotation in the test pipeline (LoadSalAnnotation)')
            stats = image_statistics(pred, _to_numpy(gt), self.protocol, self.metrics,
                                     self.keep_curves, where=img_path)
            stats['dataset'] = dataset
            self.results.append(stats)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        groups: Dict[str, List[dict]] = OrderedDict()
        for stats in results:
            groups.setdefault(stats.get('dataset', 'default'), []).append(stats)
        table, curves = OrderedDict(), OrderedDict()
        for dataset, stats in groups.items():
            scores, dataset_curves = aggregate_statistics(stats, self.protocol, self.metrics)
            table[dataset] = {self.method_name: scores}
            if dataset_curves is not None:
                curves[dataset] = {self.method_name: dataset_curves}
        print_log('\n' + format_table(table, self.protocol, self.metrics), logger='current')
        if self.results_dir:
            paths = write_results(table, self.results_dir, self.protocol, self.metrics, curves)
            if self.plot_curves and curves:
                from salbox.visualization import plot_curves
                plot_curves(curves, self.results_dir, protocol_name=self.protocol.name)
            print_log(f'evaluation results written to {paths["json"]}', logger='current')
        flat = {f'{d}/{m}': s[self.method_name][m] for d, s in table.items() for m in self.metrics}
        if len(table) == 1:
            only = next(iter(table.values()))[self.method_name]
            flat.update(only)
        return flat
