"""Result tables: a row per (data set, method), a column per metric, the protocol named.

Results are nested ``{dataset: {method: {metric: value}}}``; the same structure is written
as ``results.json``, and as CSV and Markdown beside it. Curves go to ``curves.json`` as
``{dataset: {method: {curve: [values]}}}`` with the protocol under ``"_protocol"``.
"""
import csv
import io
import json
import os
import os.path as osp
from typing import Dict, Mapping, Optional, Sequence

import numpy as np

from .functional.statistics import METRIC_NAMES
from .protocols import EvalProtocol

Results = Mapping[str, Mapping[str, Mapping[str, float]]]
LOWER_IS_BETTER = frozenset({'MAE'})


def _metric_columns(results: Results, metrics: Optional[Sequence[str]]):
    if metrics is not None:
        return list(metrics)
    seen = {m for methods in results.values() for scores in methods.values() for m in scores}
    return [m for m in METRIC_NAMES if m in seen] + sorted(seen - set(METRIC_NAMES))


def _rows(results: Results, metrics: Sequence[str], digits: int):
    rows = []
    for dataset, methods in results.items():
        for method, scores in methods.items():
            values = [f'{scores[m]:.{digits}f}' if m in scores else '-' for m in metrics]
            rows.append([dataset, method] + values)
    return rows


def _show_method(results: Results) -> bool:
    names = {m for methods in results.values() for m in methods}
    return len(names) > 1


def format_table(results: Results, protocol: EvalProtocol, metrics: Optional[Sequence[str]] = None,
                 digits: int = 4) -> str:
    """Plain-text table for logs and terminals, the protocol on the first line."""
    metrics = _metric_columns(results, metrics)
    with_method = _show_method(results)
    header = ['Dataset'] + (['Method'] if with_method else []) + list(metrics)
    rows = [r if with_method else r[:1] + r[2:] for r in _rows(results, metrics, digits)]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]

    def line(cells):
        return '  '.join(str(c).ljust(w) if i < len(header) - len(metrics) else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    rule = '-' * len(line(header))
    return '\n'.join([protocol.describe(), rule, line(header), rule]
                     + [line(r) for r in rows] + [rule])


def to_markdown(results: Results, protocol: EvalProtocol, metrics: Optional[Sequence[str]] = None,
                digits: int = 4) -> str:
    metrics = _metric_columns(results, metrics)
    arrows = [f'{m} {"↓" if m in LOWER_IS_BETTER else "↑"}' for m in metrics]
    header = ['Dataset', 'Method'] + arrows
    lines = [f'Evaluation {protocol.describe()}', '',
             '| ' + ' | '.join(header) + ' |',
             '| ' + ' | '.join(['---', '---'] + ['---:'] * len(metrics)) + ' |']
    lines += ['| ' + ' | '.join(r) + ' |' for r in _rows(results, metrics, digits)]
    return '\n'.join(lines) + '\n'


def to_csv(results: Results, protocol: EvalProtocol,
           metrics: Optional[Sequence[str]] = None) -> str:
    """CSV with full-precision values; the last column names the protocol's conventions."""
    metrics = _metric_columns(results, metrics)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['dataset', 'method'] + list(metrics) + ['protocol'])
    for dataset, methods in results.items():
        for method, scores in methods.items():
            writer.writerow([dataset, method] + [repr(float(scores[m])) if m in scores else ''
                                                 for m in metrics] + [protocol.describe()])
    return buffer.getvalue()


def curves_to_jsonable(curves: Mapping, protocol: EvalProtocol) -> dict:
    data = {'_protocol': protocol.to_dict()}
    for dataset, methods in curves.items():
        data[dataset] = {method: {name: np.asarray(values).tolist() for name, values in c.items()}
                         for method, c in methods.items() if c is not None}
    return data


def load_curves(path: str) -> Dict[str, Dict[str, Dict[str, np.ndarray]]]:
    """Read a ``curves.json`` back as arrays (the ``_protocol`` entry is dropped)."""
    with open(path) as f:
        data = json.load(f)
    return {dataset: {method: {k: np.asarray(v) for k, v in c.items()}
                      for method, c in methods.items()}
            for dataset, methods in data.items() if not dataset.startswith('_')}


def write_results(results: Results, out_dir: str, protocol: EvalProtocol,
                  metrics: Optional[Sequence[str]] = None, curves: Optional[Mapping] = None,
                  digits: int = 4) -> Dict[str, str]:
    """Write ``results.{json,csv,md}`` (and ``curves.json``) under ``out_dir``; return paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {key: osp.join(out_dir, f'results.{key}') for key in ('json', 'csv', 'md')}
    plain = {d: {m: {k: float(v) for k, v in s.items()} for m, s in methods.items()}
             for d, methods in results.items()}
    with open(paths['json'], 'w') as f:
        json.dump(plain, f, indent=2)
    with open(paths['csv'], 'w') as f:
        f.write(to_csv(results, protocol, metrics))
    with open(paths['md'], 'w') as f:
        f.write(to_markdown(results, protocol, metrics, digits))
    if curves:
        paths['curves'] = osp.join(out_dir, 'curves.json')
        with open(paths['curves'], 'w') as f:
            json.dump(curves_to_jsonable(curves, protocol), f)
    return paths
