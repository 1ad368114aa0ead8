"""Speed of salbox's full metric suite against PySODMetrics 1.6.2, same pairs, one process.

    python benchmarks/bench_metrics.py [--num 1000] [--kind structured|uniform] [--rounds 2]

Pairs follow ``reference/evaluation_crf.md`` section 1.6: "structured" masks are 1-3 filled
ellipses, the prediction is the mask shifted by up to 10 px, Gaussian-blurred (sigma 1-6) plus
N(0, 20) noise, as uint8; "uniform" pairs are ``randint(0, 256)`` maps against 30% random
masks. Both sides compute MAE, F (adaptive + 256-threshold curve), S, E (adaptive + curve)
and weighted F for every pair; the numbers are compared and the time ratio printed. Each
round times both sides; the best round of each is reported (the machine is shared).
"""
import argparse
import os.path as osp
import sys
import time
import warnings

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from salbox.evaluation.functional import (METRIC_NAMES, aggregate_statistics,  # noqa: E402
                                          image_statistics)


def structured_pair(rng, h=300, w=400):
    gt = np.zeros((h, w), np.uint8)
    for _ in range(rng.integers(1, 4)):
        center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(10, 100)), int(rng.integers(10, 80)))
        cv2.ellipse(gt, center, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    shift = np.float32([[1, 0, rng.integers(-10, 11)], [0, 1, rng.integers(-10, 11)]])
    pred = cv2.warpAffine(gt, shift, (w, h)).astype(np.float64)
    pred = cv2.GaussianBlur(pred, (0, 0), float(rng.uniform(1, 6))) + rng.normal(0, 20, (h, w))
    return np.clip(pred, 0, 255).astype(np.uint8), gt


def uniform_pair(rng, h=300, w=400):
    pred = rng.integers(0, 256, (h, w)).astype(np.uint8)
    gt = ((rng.random((h, w)) < 0.3) * 255).astype(np.uint8)
    return pred, gt


def run_pysodmetrics(pairs):
    import py_sod_metrics as psm
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # Fmeasure's deprecation notice
        evaluators = [psm.MAE(), psm.Fmeasure(), psm.Smeasure(), psm.Emeasure(),
                      psm.WeightedFmeasure()]
    for pred, gt in pairs:
        for evaluator in evaluators:
            evaluator.step(pred=pred, gt=gt)
    mae, fm, sm, em, wfm = (e.get_results() for e in evaluators)
    return {'MAE': mae['mae'], 'maxF': fm['fm']['curve'].max(), 'meanF': fm['fm']['curve'].mean(),
            'adpF': fm['fm']['adp'], 'Sm': sm['sm'], 'maxEm': em['em']['curve'].max(),
            'meanEm': em['em']['curve'].mean(), 'adpEm': em['em']['adp'], 'wF': wfm['wfm']}


def run_salbox(pairs):
    stats = [image_statistics(pred, gt, 'pysodmetrics') for pred, gt in pairs]
    return aggregate_statistics(stats, 'pysodmetrics')[0]


def timed(fn, pairs):
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(pairs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--num', type=int, default=1000)
    parser.add_argument('--kind', choices=['structured', 'uniform'], default='structured')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    make = structured_pair if args.kind == 'structured' else uniform_pair
    pairs = [make(rng) for _ in range(args.num)]
    best_ref = best_ours = cpu_ref = cpu_ours = float('inf')
    for _ in range(args.rounds):
        seconds, cpu, reference = timed(run_pysodmetrics, pairs)
        best_ref, cpu_ref = min(best_ref, seconds), min(cpu_ref, cpu)
        seconds, cpu, ours = timed(run_salbox, pairs)
        best_ours, cpu_ours = min(best_ours, seconds), min(cpu_ours, cpu)

    print(f'{args.num} {args.kind} 300x400 pairs, MAE + F + S + E + wF, one process, '
          f'best of {args.rounds} rounds')
    print(f'                      wall ms/img   CPU ms/img')
    per_image = 1e3 / args.num
    print(f'  pysodmetrics 1.6.2: {best_ref * per_image:11.2f}  {cpu_ref * per_image:11.2f}')
    print(f'  salbox            : {best_ours * per_image:11.2f}  {cpu_ours * per_image:11.2f}')
    print(f'  speed-up          : {best_ref / best_ours:10.2f}x  {cpu_ref / cpu_ours:10.2f}x')
    worst = 0.0
    for name in METRIC_NAMES:
        diff = abs(float(reference[name]) - ours[name])
        worst = max(worst, diff)
        flag = 'identical' if float(reference[name]) == ours[name] else f'diff {diff:.3g}'
        print(f'  {name:7s} pysodmetrics {float(reference[name]):.16f}  salbox '
              f'{ours[name]:.16f}  {flag}')
    print(f'  largest difference: {worst:.3g}')
    return 0 if worst <= 1e-10 else 1


if __name__ == '__main__':
    sys.exit(main())
