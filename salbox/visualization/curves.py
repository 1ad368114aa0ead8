"""PR and F-measure-vs-threshold curves of several methods, one figure per data set.

Uses matplotlib's object API with the Agg canvas (no pyplot state, no display needed).
"""
import os
import os.path as osp
import re
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

Curves = Mapping[str, Mapping[str, np.ndarray]]


def _safe_name(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('_') or 'dataset'


def plot_dataset_curves(dataset: str, methods: Mapping[str, Curves], out_dir: str,
                        formats: Sequence[str] = ('png', 'pdf'), title_suffix: str = '',
                        dpi: int = 150) -> List[str]:
    """Draw the PR curve and the F-measure-vs-threshold curve of every method of one data set.

    ``methods``: ``{method: {'thresholds', 'precision', 'recall', 'fmeasure', ...}}`` as
    produced by ``aggregate_statistics``. Returns the written file paths.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not methods:
        raise ValueError(f'no curve to plot for data set {dataset!r}')
    figure = Figure(figsize=(10, 4.4))
    FigureCanvasAgg(figure)
    pr_axes, f_axes = figure.subplots(1, 2)
    for method, curve in methods.items():
        recall, precision = np.asarray(curve['recall']), np.asarray(curve['precision'])
        thresholds, fmeasure = np.asarray(curve['thresholds']), np.asarray(curve['fmeasure'])
        line, = pr_axes.plot(recall, precision, linewidth=1.6, label=method)
        best = int(np.argmax(fmeasure))
        f_axes.plot(thresholds, fmeasure, linewidth=1.6, color=line.get_color(),
                    label=f'{method} (max {fmeasure[best]:.3f})')
        f_axes.plot(thresholds[best], fmeasure[best], 'o', markersize=4, color=line.get_color())
    pr_axes.set(xlabel='Recall', ylabel='Precision', xlim=(0, 1), ylim=(0, 1.02),
                title=f'{dataset}: precision-recall{title_suffix}')
    f_axes.set(xlabel='Threshold', ylabel='F-measure', xlim=(0, 1), ylim=(0, 1.02),
               title=f'{dataset}: F-measure vs threshold{title_suffix}')
    for axes in (pr_axes, f_axes):
        axes.grid(True, linestyle=':', linewidth=0.6)
        axes.legend(loc='lower left', fontsize=8)
    figure.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for fmt in formats:
        path = osp.join(out_dir, f'curves_{_safe_name(dataset)}.{fmt}')
        figure.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def plot_curves(curves: Mapping[str, Mapping[str, Curves]], out_dir: str,
                formats: Sequence[str] = ('png', 'pdf'), protocol_name: Optional[str] = None,
                datasets: Optional[Sequence[str]] = None,
                methods: Optional[Sequence[str]] = None) -> Dict[str, List[str]]:
    """One figure per data set from ``{dataset: {method: curves}}``; returns written paths."""
    suffix = f' ({protocol_name})' if protocol_name else ''
    written = {}
    for dataset, by_method in curves.items():
        if dataset.startswith('_') or (datasets and dataset not in datasets):
            continue
        chosen = {m: c for m, c in by_method.items() if c and (not methods or m in methods)}
        if chosen:
            written[dataset] = plot_dataset_curves(dataset, chosen, out_dir, formats, suffix)
    if not written:
        raise ValueError('nothing to plot: no data set/method with curves matched')
    return written
