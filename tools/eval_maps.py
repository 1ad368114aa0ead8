"""Evaluate folders of saved saliency maps against ground truth, without a model.

    python tools/eval_maps.py --gt ECSSD=data/ECSSD/masks DUTS-TE=data/DUTS-TE/masks \\
        --pred R3Net=ECSSD:maps/r3net/ECSSD R3Net=DUTS-TE:maps/r3net/DUTS-TE \\
               DGRL=ECSSD:maps/dgrl/ECSSD DGRL=DUTS-TE:maps/dgrl/DUTS-TE \\
        --protocol pysodmetrics --out work_dirs/compare

Maps are matched to masks by file stem (``--pred-suffix`` / ``--gt-suffix``). Prints one
table (a row per data set and method, a column per metric, the protocol named) and writes
``OUT/results.json`` (``{dataset: {method: {metric: value}}}``), ``results.csv``,
``results.md``, ``curves.json`` and one PR + F-threshold figure per data set
(``curves_<dataset>.png/.pdf``). Missing or mismatched files are listed by name and stop the
run (exit code 2) unless ``--skip-missing`` asks to evaluate the remaining pairs; files that
cannot be decoded (empty, truncated, not an image, too large) are all listed at the end of
the run (``OUT/problems.json`` holds every name). See docs/bad_input.md.
"""
import argparse
import ast
import json
import os
import os.path as osp
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from salbox.evaluation import (EvaluationInputError, METRIC_NAMES, PRESETS,  # noqa: E402
                               evaluate_folders, format_table, get_protocol, write_results)


def _split(parser, text: str, sep: str, what: str, example: str):
    left, _, right = text.partition(sep)
    if not left or not right:
        parser.error(f'{what} {text!r} must look like {example}')
    return left, right


def _parse_value(text: str):
    if text.lower() in ('none', 'null'):
        return None
    if text.lower() in ('true', 'false'):
        return text.lower() == 'true'
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Evaluate folders of saliency maps against ground-truth masks',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split('\n\n')[1])
    parser.add_argument('--gt', nargs='+', action='extend', required=True,
                        metavar='DATASET=MASK_DIR', help='ground-truth folder of each data set')
    parser.add_argument('--pred', nargs='+', action='extend', required=True,
                        metavar='METHOD=DATASET:MAP_DIR',
                        help='map folder of a method on a data set')
    parser.add_argument('--protocol', default='pysodmetrics', choices=sorted(PRESETS),
                        help='evaluation conventions (default: pysodmetrics)')
    parser.add_argument('--set', nargs='+', action='extend', default=[], metavar='OPTION=VALUE',
                        help='override protocol options, e.g. eps=1e-4 resize=bilinear')
    parser.add_argument('--metrics', nargs='+', default=list(METRIC_NAMES), choices=METRIC_NAMES)
    parser.add_argument('--out', required=True, help='output folder for tables and figures')
    parser.add_argument('--gt-suffix', default='.png', help='mask file suffix (default .png)')
    parser.add_argument('--pred-suffix', default='.png', help='map file suffix (default .png)')
    parser.add_argument('--workers', type=int, default=0, help='parallel worker processes')
    parser.add_argument('--skip-missing', action='store_true',
                        help='evaluate the matched pairs even if some files are missing or '
                             'mismatched (they are still listed)')
    parser.add_argument('--binary-01-masks', action='store_true',
                        help='the masks store labels 0/1 instead of grey 0/255 (without it such '
                             'masks are reported: they would score as empty ground truth)')
    parser.add_argument('--no-plot', action='store_true', help='do not draw curve figures')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--digits', type=int, default=4, help='decimals in printed tables')
    args = parser.parse_args(argv)

    args.gt_dirs = OrderedDict()
    for item in args.gt:
        dataset, folder = _split(parser, item, '=', '--gt', 'DATASET=MASK_DIR')
        if dataset in args.gt_dirs:
            parser.error(f'data set {dataset!r} is given twice in --gt')
        args.gt_dirs[dataset] = folder
    args.pred_dirs = OrderedDict()
    for item in args.pred:
        method, rest = _split(parser, item, '=', '--pred', 'METHOD=DATASET:MAP_DIR')
        dataset, folder = _split(parser, rest, ':', '--pred', 'METHOD=DATASET:MAP_DIR')
        if dataset not in args.gt_dirs:
            parser.error(f'--pred {item!r} names data set {dataset!r}, which has no --gt '
                         f'folder (known: {", ".join(args.gt_dirs)})')
        args.pred_dirs.setdefault(method, OrderedDict())[dataset] = folder
    args.overrides = {}
    for item in args.set:
        key, value = _split(parser, item, '=', '--set', 'OPTION=VALUE')
        args.overrides[key] = _parse_value(value)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        protocol = get_protocol(args.protocol, **args.overrides)
    except (KeyError, ValueError, TypeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    try:
        scores, curves, reports = evaluate_folders(
            args.gt_dirs, args.pred_dirs, protocol, args.metrics, args.gt_suffix,
            args.pred_suffix, args.workers, args.skip_missing, progress=not args.no_progress,
            binary_01_masks=args.binary_01_masks)
    except EvaluationInputError as error:
        print(f'error: {error}', file=sys.stderr)
        os.makedirs(args.out, exist_ok=True)
        _write_problems(args.out, error.reports)
        print(f'full lists written to {osp.join(args.out, "problems.json")}', file=sys.stderr)
        return 2
    except (FileNotFoundError, KeyError, ValueError, TypeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    for report in reports:
        if report.has_problems:
            print('warning: evaluated the matched pairs only\n' + report.describe(),
                  file=sys.stderr)
    if any(r.has_problems for r in reports):
        _write_problems(args.out, reports)
    print(format_table(scores, protocol, args.metrics, args.digits))
    paths = write_results(scores, args.out, protocol, args.metrics, curves, args.digits)
    written = list(paths.values())
    if curves and not args.no_plot:
        from salbox.visualization import plot_curves
        for files in plot_curves(curves, args.out, protocol_name=protocol.name).values():
            written.extend(files)
    print('written: ' + ', '.join(written))
    return 0


def _write_problems(out_dir: str, reports) -> None:
    problems = [dict(method=r.method, dataset=r.dataset, matched=len(r.pairs),
                     missing_maps=r.missing_maps, unmatched_maps=r.unmatched_maps,
                     size_mismatches=r.size_mismatches, unreadable=r.unreadable)
                for r in reports if r.has_problems]
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'problems.json'), 'w') as f:
        json.dump(problems, f, indent=2)


if __name__ == '__main__':
    sys.exit(main())
