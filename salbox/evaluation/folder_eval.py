"""Evaluating folders of saved maps against folders of masks, without a model.

Maps are matched to masks by file stem (``<stem><pred_suffix>`` against
``<stem><gt_suffix>``). Masks without a map, maps without a mask and pairs of different
sizes (when the protocol does not resize) are reported by name; evaluation then stops unless
``skip_problems=True``, which evaluates the remaining pairs. Files that cannot be decoded
(zero bytes, truncated, not an image) are found while evaluating: every pair is still
read, and all unreadable files are listed together at the end (an error, or with
``skip_problems=True`` a warning about pairs left out).

Memory does not grow with the number of images: pairs are read, reduced to statistics and
added to a ``StatisticsAccumulator`` one at a time.
"""
import multiprocessing
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from salbox.utils.errors import DataError
from salbox.utils.image_io import image_size_raw
from .functional.statistics import StatisticsAccumulator, check_metrics, image_statistics
from .map_io import list_maps, read_map
from .protocols import get_protocol


@dataclass
class MatchReport:
    """The pairs of one (method, data set) and what could not be paired."""
    method: str
    dataset: str
    pairs: List[Tuple[str, str, str]] = field(default_factory=list)  # (stem, pred, gt)
    missing_maps: List[str] = field(default_factory=list)  # masks without a map
    unmatched_maps: List[str] = field(default_factory=list)  # maps without a mask
    size_mismatches: List[str] = field(default_factory=list)  # 'stem: pred HxW vs gt HxW'
    unreadable: List[str] = field(default_factory=list)  # 'path: reason'

    @property
    def has_problems(self) -> bool:
        return bool(self.missing_maps or self.unmatched_maps or self.size_mismatches
                    or self.unreadable)

    def describe(self, limit: int = 20) -> str:
        lines = [f'[{self.method} on {self.dataset}] {len(self.pairs)} pairs matched']
        for title, names in (('masks without a map', self.missing_maps),
                             ('maps without a mask', self.unmatched_maps),
                             ('size mismatches', self.size_mismatches),
                             ('unreadable files', self.unreadable)):
            if names:
                shown = ', '.join(names[:limit])
                more = f' ... and {len(names) - limit} more' if len(names) > limit else ''
                lines.append(f'  {len(names)} {title}: {shown}{more}')
        return '\n'.join(lines)


class EvaluationInputError(ValueError):
    """Raised when maps and masks do not pair up; ``reports`` lists every problem."""

    def __init__(self, reports: Sequence[MatchReport]):
        self.reports = list(reports)
        text = '\n'.join(r.describe() for r in self.reports if r.has_problems)
        super().__init__('problems with the maps and masks:\n' + text
                         + '\nFix the folders or suffixes, or ask to evaluate the remaining '
                         'pairs (skip_problems=True / --skip-missing).')


def _size_or_none(path: str) -> Optional[Tuple[int, int]]:
    """(height, width) of a map or mask (decoded as stored), None when its header cannot be
    read (the file is then named when the pair is decoded)."""
    try:
        return image_size_raw(path, 'map')
    except DataError:
        return None


def match_folder(pred_dir: str, gt_dir: str, gt_suffix: str = '.png', pred_suffix: str = '.png',
                 check_sizes: bool = True, method: str = 'method',
                 dataset: str = 'dataset') -> MatchReport:
    """Pair the maps in ``pred_dir`` with the masks in ``gt_dir`` by stem."""
    masks = list_maps(gt_dir, gt_suffix)
    if not masks:
        raise FileNotFoundError(f'no mask ending with {gt_suffix!r} in {gt_dir}')
    maps = list_maps(pred_dir, pred_suffix)
    if not maps:
        raise FileNotFoundError(f'no map ending with {pred_suffix!r} in {pred_dir}')
    report = MatchReport(method, dataset)
    report.missing_maps = [s for s in masks if s not in maps]
    report.unmatched_maps = [s for s in maps if s not in masks]
    for stem, gt_path in masks.items():
        if stem not in maps:
            continue
        if check_sizes:
            pred_hw, gt_hw = _size_or_none(maps[stem]), _size_or_none(gt_path)
            if pred_hw is None or gt_hw is None:
                pass  # an unreadable header: named when the pair is decoded
            elif pred_hw != gt_hw:
                report.size_mismatches.append(f'{stem} (map {pred_hw[0]}x{pred_hw[1]}, '
                                              f'mask {gt_hw[0]}x{gt_hw[1]})')
                continue
        report.pairs.append((stem, maps[stem], gt_path))
    return report


def _pair_statistics(task):
    """Statistics of one pair, or ``(None, problems)`` naming the files that cannot be read."""
    pred_path, gt_path, protocol, metrics, keep_curves, binary_01_masks = task
    images, problems = [], []
    for path in (pred_path, gt_path):
        try:
            images.append(read_map(path))
        except (DataError, FileNotFoundError, ValueError) as error:
            problems.append(str(error))
    if not problems and images[1].max() == 1:  # as LoadSalAnnotation: never scored as empty
        if binary_01_masks:
            images[1] = images[1] * np.uint8(255)
        else:
            problems.append(f'mask {gt_path} holds only 0/1 values (a label map, not a 0-255 '
                            'grey mask; it would score as empty ground truth): rescale it to '
                            '0/255 or pass --binary-01-masks')
    if problems:
        return None, problems
    try:
        return image_statistics(images[0], images[1], protocol, metrics, keep_curves,
                                where=pred_path), []
    except ValueError as error:  # e.g. sizes differ although the headers agreed
        return None, [str(error)]


def _statistics(tasks, workers: int, progress: bool, label: str) -> Iterator[tuple]:
    """Yield ``(stats or None, problems)`` per task, in order, one at a time."""
    pool = None
    if workers and workers > 1 and len(tasks) > 1:
        pool = multiprocessing.get_context('fork').Pool(workers)
        chunk = max(1, min(32, len(tasks) // (4 * workers)))
        iterator = pool.imap(_pair_statistics, tasks, chunksize=chunk)
    else:
        iterator = map(_pair_statistics, tasks)
    if progress:
        from tqdm import tqdm
        iterator = tqdm(iterator, total=len(tasks), desc=label, unit='img', dynamic_ncols=True)
    try:
        yield from iterator
    finally:
        if pool is not None:
            pool.close()
            pool.join()


def _accumulate(report: MatchReport, tasks, protocol, metrics, workers: int, progress: bool):
    """Feed every readable pair to an accumulator; record unreadable files in ``report``."""
    accumulator = StatisticsAccumulator(protocol, metrics)
    for stats, problems in _statistics(tasks, workers, progress,
                                       f'{report.method} on {report.dataset}'):
        if stats is None:
            report.unreadable.extend(p for p in problems if p not in report.unreadable)
        else:
            accumulator.add(stats)
    return accumulator


def evaluate_folders(gt_dirs: Mapping[str, str],
                     pred_dirs: Mapping[str, Mapping[str, str]],
                     protocol='pysodmetrics',
                     metrics: Optional[Sequence[str]] = None,
                     gt_suffix: str = '.png',
                     pred_suffix: str = '.png',
                     workers: int = 0,
                     skip_problems: bool = False,
                     keep_curves: bool = True,
                     progress: bool = True,
                     binary_01_masks: bool = False):
    """Evaluate maps of several methods on several data sets.

    Args:
        gt_dirs: ``{dataset: mask folder}``.
        pred_dirs: ``{method: {dataset: map folder}}``; a method may cover some data sets only.
        workers: process-parallel evaluation over images when > 1.
        skip_problems: evaluate the matched pairs even when some files are missing or
            mismatched (they are still reported).
        binary_01_masks: masks store labels 0/1 (scaled to 0/255); otherwise a mask whose
            maximum is 1 is reported as a problem, as ``LoadSalAnnotation`` refuses it.

    Returns:
        ``(scores, curves, reports)``: ``{dataset: {method: {metric: value}}}``,
        ``{dataset: {method: {curve: array}}}`` and the list of ``MatchReport``.
    """
    protocol = get_protocol(protocol)
    metrics = check_metrics(metrics)
    reports = []
    for method, by_dataset in pred_dirs.items():
        for dataset, pred_dir in by_dataset.items():
            if dataset not in gt_dirs:
                raise KeyError(f'method {method!r} names data set {dataset!r}, which has no '
                               f'ground-truth folder; known: {sorted(gt_dirs)}')
            reports.append(match_folder(pred_dir, gt_dirs[dataset], gt_suffix, pred_suffix,
                                        check_sizes=protocol.resize is None, method=method,
                                        dataset=dataset))
    if not reports:
        raise ValueError('no (method, data set) pair to evaluate')
    if any(r.has_problems for r in reports) and not skip_problems:
        raise EvaluationInputError(reports)
    scores: Dict[str, Dict[str, dict]] = OrderedDict((d, OrderedDict()) for d in gt_dirs)
    curves: Dict[str, Dict[str, dict]] = OrderedDict((d, OrderedDict()) for d in gt_dirs)
    accumulators = []
    for report in reports:
        if not report.pairs:
            raise ValueError(f'no pair left to evaluate for {report.method} on {report.dataset}')
        tasks = [(pred, gt, protocol, metrics, keep_curves, binary_01_masks)
                 for _, pred, gt in report.pairs]
        accumulators.append(_accumulate(report, tasks, protocol, metrics, workers, progress))
    # Every pair has been read: now list every unreadable file at once.
    if any(r.unreadable for r in reports) and not skip_problems:
        raise EvaluationInputError(reports)
    for report, accumulator in zip(reports, accumulators):
        if not accumulator.count:
            raise ValueError(f'no readable pair left to evaluate for {report.method} on '
                             f'{report.dataset}')
        values, dataset_curves = accumulator.result()
        scores[report.dataset][report.method] = values
        if dataset_curves is not None:
            curves[report.dataset][report.method] = dataset_curves
    scores = OrderedDict((d, m) for d, m in scores.items() if m)
    curves = OrderedDict((d, m) for d, m in curves.items() if m)
    return scores, curves, reports


def evaluate_folder(pred_dir: str, gt_dir: str, protocol='pysodmetrics',
                    metrics: Optional[Sequence[str]] = None, gt_suffix: str = '.png',
                    pred_suffix: str = '.png', workers: int = 0, skip_problems: bool = False,
                    progress: bool = False):
    """Evaluate one folder of maps against one folder of masks; returns ``(scores, curves)``."""
    scores, curves, _ = evaluate_folders({'dataset': gt_dir}, {'method': {'dataset': pred_dir}},
                                         protocol, metrics, gt_suffix, pred_suffix, workers,
                                         skip_problems, progress=progress)
    return scores['dataset']['method'], curves.get('dataset', {}).get('method')
