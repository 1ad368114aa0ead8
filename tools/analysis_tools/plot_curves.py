"""Plot PR and F-measure-vs-threshold curves from saved evaluation results.

    python tools/analysis_tools/plot_curves.py work_dirs/r3net/results work_dirs/dgrl/results \\
        --names R3Net DGRL --out work_dirs/curves

Each argument is a ``curves.json`` file or a folder holding one (written by
``tools/test.py`` through SODMetric, or by ``tools/eval_maps.py``). Methods from several
files are drawn together, one figure per data set (PNG and PDF).
"""
import argparse
import json
import os.path as osp
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from salbox.evaluation import load_curves  # noqa: E402
from salbox.visualization import plot_curves  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot PR / F-threshold curves of saved results')
    parser.add_argument('results', nargs='+', help='curves.json files or folders holding one')
    parser.add_argument('--names', nargs='+', help='method names replacing those in the files '
                        '(one per file; only for files holding a single method)')
    parser.add_argument('--datasets', nargs='+', help='only these data sets')
    parser.add_argument('--out', required=True, help='output folder for the figures')
    parser.add_argument('--formats', nargs='+', default=['png', 'pdf'])
    return parser.parse_args(argv)


def _curves_path(path: str) -> str:
    path = osp.join(path, 'curves.json') if osp.isdir(path) else path
    if not osp.isfile(path):
        raise FileNotFoundError(f'no curves.json at {path}: run tools/test.py (SODMetric with '
                                f'results_dir) or tools/eval_maps.py first')
    return path


def merge_curves(paths, names=None):
    """Merge several ``curves.json`` into ``{dataset: {method: curves}}``."""
    if names and len(names) != len(paths):
        raise ValueError(f'--names gives {len(names)} names for {len(paths)} result files')
    merged, protocols = OrderedDict(), []
    for index, path in enumerate(paths):
        path = _curves_path(path)
        with open(path) as f:
            protocols.append(json.load(f).get('_protocol', {}).get('name'))
        for dataset, methods in load_curves(path).items():
            if names and len(methods) != 1:
                raise ValueError(f'{path} holds {len(methods)} methods for {dataset}; '
                                 f'--names needs one method per file')
            for method, curve in methods.items():
                label = names[index] if names else method
                target = merged.setdefault(dataset, OrderedDict())
                if label in target:
                    label = f'{label} ({osp.basename(osp.dirname(osp.abspath(path)))})'
                target[label] = curve
    return merged, protocols


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        curves, protocols = merge_curves(args.results, args.names)
        distinct = sorted({p for p in protocols if p})
        if len(distinct) > 1:
            print(f'warning: the files use different protocols {distinct}; the curves are '
                  f'not comparable', file=sys.stderr)
        written = plot_curves(curves, args.out, args.formats,
                              protocol_name=distinct[0] if len(distinct) == 1 else None,
                              datasets=args.datasets)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    for files in written.values():
        print('\n'.join(files))
    return 0


if __name__ == '__main__':
    sys.exit(main())
