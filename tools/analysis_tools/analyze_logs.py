"""Plot loss / metric curves and compute training time from mmengine's JSON logs
(after MMSegmentation's ``tools/analysis_tools/analyze_logs.py``).

    python tools/analysis_tools/analyze_logs.py plot_curve \\
        work_dirs/r3net/20260101_120000/vis_data/scalars.json --keys loss maxF --out curves.png
    python tools/analysis_tools/analyze_logs.py plot_curve run_a/ run_b/ --keys loss \\
        --legend A B --out loss.png
    python tools/analysis_tools/analyze_logs.py cal_train_time work_dirs/r3net

A log is ``<work_dir>/<timestamp>/vis_data/scalars.json`` (one JSON object per line, written by
mmengine's ``LoggerHook``: training lines carry ``loss``, ``lr``, ``time``, ``iter``; validation
lines carry the metrics, e.g. ``maxF``; ``step`` is the iteration). A folder stands for the newest
such file below it. ``plot_curve`` draws one panel per key, one line per log, against the
iteration; ``cal_train_time`` reports the mean, slowest, fastest and spread of the iteration time.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from salbox.apis.runner_utils import run_friendly  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402


def resolve_log(path: str) -> str:
    """A scalars.json path, or the newest ``*/vis_data/scalars.json`` below a folder."""
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        found = glob.glob(osp.join(path, '**', 'vis_data', 'scalars.json'), recursive=True)
        if found:
            return max(found, key=osp.getmtime)
    raise SalboxError(f'no mmengine JSON log at {path} (expected <work_dir>/<timestamp>/'
                      'vis_data/scalars.json or a folder holding one)')


def load_log(path: str) -> List[dict]:
    """The log's records, one dict per line (unreadable lines are reported)."""
    records = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise SalboxError(f'{path}:{number}: not a JSON line ({err.msg})') from None
    return records


def series(records: List[dict], key: str) -> Dict[str, np.ndarray]:
    """``{'step': ..., 'value': ...}`` for every record holding ``key`` (training records for
    losses, validation records for metrics). Metrics logged per data set (``<set>/maxF``) are
    matched by their last component when ``key`` itself is absent."""
    steps, values = [], []
    for index, record in enumerate(records):
        value = record.get(key)
        if value is None:
            matches = [v for k, v in record.items() if k.rsplit('/', 1)[-1] == key]
            value = matches[0] if len(matches) == 1 else None
        if isinstance(value, (int, float)):
            steps.append(record.get('step', record.get('iter', index)))
            values.append(float(value))
    return dict(step=np.asarray(steps), value=np.asarray(values))


def plot_curve(args) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    paths = [resolve_log(p) for p in args.json_logs]
    if args.legend and len(args.legend) != len(paths):
        raise SalboxError(f'--legend has {len(args.legend)} names for {len(paths)} logs')
    names = args.legend or [osp.basename(osp.dirname(osp.dirname(p))) or p for p in paths]
    logs = [load_log(p) for p in paths]
    figure = Figure(figsize=(5.0 * len(args.keys), 3.8))
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(1, len(args.keys), squeeze=False)[0]
    for key, axes in zip(args.keys, axes_list):
        drawn = 0
        for name, records in zip(names, logs):
            curve = series(records, key)
            if not len(curve['value']):
                continue
            marker = 'o' if len(curve['value']) < 20 else None
            axes.plot(curve['step'], curve['value'], marker=marker, markersize=3, linewidth=1.4,
                      label=f'{name}: {key}' if len(names) > 1 else key)
            drawn += 1
        if not drawn:
            available = sorted({k for r in logs[0] for k in r} - {'step'})
            raise SalboxError(f'no log has the key {key!r}; keys found: {", ".join(available)}')
        axes.set(xlabel='iteration', ylabel=key)
        axes.grid(True, linestyle=':', linewidth=0.6)
        axes.legend(fontsize=8)
    if args.title:
        figure.suptitle(args.title)
    figure.tight_layout()
    if not args.out:
        raise SalboxError('give --out FILE.png (no display on this machine)')
    figure.savefig(args.out, dpi=args.dpi)
    print(f'saved the curves to {args.out}')


def cal_train_time(args) -> None:
    for path in (resolve_log(p) for p in args.json_logs):
        records = [r for r in load_log(path) if 'time' in r and ('loss' in r or 'lr' in r)]
        if not records:
            raise SalboxError(f'{path}: no training records with a "time" key')
        times = np.asarray([r['time'] for r in records], dtype=np.float64)
        steps = [r.get('step', i) for i, r in enumerate(records)]
        if not args.include_outliers and len(times) > 1:
            times, steps = times[1:], steps[1:]  # the first interval holds the start-up
        slowest, fastest = int(np.argmax(times)), int(np.argmin(times))
        print(f'-----Analyze train time of {path}-----')
        print(f'logged intervals: {len(times)} (each the mean over the logging interval)')
        print(f'slowest iteration: {steps[slowest]}, {times[slowest]:.4f} s/iter')
        print(f'fastest iteration: {steps[fastest]}, {times[fastest]:.4f} s/iter')
        print(f'time std over intervals: {times.std():.4f}')
        print(f'average iteration time: {times.mean():.4f} s/iter')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Analyse mmengine JSON logs')
    commands = parser.add_subparsers(dest='task', required=True)
    plot = commands.add_parser('plot_curve', help='plot curves of logged keys')
    plot.add_argument('json_logs', nargs='+', help='scalars.json files or work dirs')
    plot.add_argument('--keys', nargs='+', default=['loss'], help='keys to plot, e.g. loss maxF')
    plot.add_argument('--legend', nargs='+', help='one name per log')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--out', help='output image (.png, .pdf, .svg)')
    plot.add_argument('--dpi', type=int, default=120)
    timing = commands.add_parser('cal_train_time', help='iteration time statistics')
    timing.add_argument('json_logs', nargs='+', help='scalars.json files or work dirs')
    timing.add_argument('--include-outliers', action='store_true',
                        help='keep the first logged interval (start-up)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    {'plot_curve': plot_curve, 'cal_train_time': cal_train_time}[args.task](args)


if __name__ == '__main__':
    run_friendly(main)
