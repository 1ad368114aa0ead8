"""Speed and memory of salbox's metric suite against PySODMetrics 1.6.2, same pairs.

    python benchmarks/bench_metrics.py [--num 1000] [--kind realistic|structured|uniform]
        [--rounds 3] [--real-masks DIR] [--end-to-end] [--memory 500,5000]

In-memory comparison (default): both sides compute MAE, F (adaptive + 256-threshold curve),
S, E (adaptive + curve) and weighted F for every pair in this process; the numbers are
compared (each per-image score PySODMetrics keeps, MAE, adaptive F, S, adaptive E and
weighted F, and every data-set score) and the time ratio printed; the exit code is 1 if any
differs by more than 1e-10. Each round times both sides; the best round of each is
reported (the machine is shared).

Pairs:
* ``realistic`` (default): real-size masks (481x321, 500x375, 375x500, 500x333) of real
  shapes: several objects, thin structures (1-3 px strokes, rings), objects touching the
  border, soft 8-bit edges; the prediction is the mask shifted by up to 8 px, blurred
  (sigma 1-6) plus N(0, 15) noise, as uint8.
* ``structured``: ``reference/evaluation_crf.md`` section 1.6, 1-3 filled ellipses in 300x400.
* ``uniform``: ``randint(0, 256)`` maps against 30% random masks.
* ``--real-masks DIR``: the masks are the ``*.png`` files of DIR (e.g. PASCAL-S), the
  predictions derived from them as above. Nothing of DIR is stored.

``--end-to-end``: the pairs are written as PNG folders and both sides run as a new process, as
a user would: ``tools/eval_maps.py`` (full suite, tables, curves and figures) against a
PySODMetrics script (read with ``cv2.imread``, five evaluators); start-up included.

``--memory 500,5000``: peak resident memory (``VmHWM``) of ``tools/eval_maps.py``-style
evaluation (``evaluate_folder``) of N generated 96x128 pairs, each N in its own process, in
one run.
"""
import argparse
import glob
import os
import os.path as osp
import resource
import subprocess
import tempfile
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


def _stroke_mask(rng, h, w):
    """A real-shaped mask: blobs, thin strokes and rings, some touching the border."""
    gt = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 4))):  # objects, possibly cut by the border
        center = (int(rng.integers(-w // 8, w + w // 8)), int(rng.integers(-h // 8, h + h // 8)))
        axes = (int(rng.integers(10, w // 3)), int(rng.integers(10, h // 3)))
        cv2.ellipse(gt, center, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    for _ in range(int(rng.integers(0, 4))):  # thin structures: legs, wires, handles
        points = rng.integers(0, [w, h], size=(int(rng.integers(2, 6)), 2)).astype(np.int32)
        cv2.polylines(gt, [points], False, 255, int(rng.integers(1, 4)))
    if rng.random() < 0.3:  # a ring (object with a hole)
        center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(gt, center, int(rng.integers(8, 60)), 255, int(rng.integers(2, 8)))
    if rng.random() < 0.5:  # soft 8-bit edges, as in PASCAL-S / HKU-IS masks
        gt = cv2.GaussianBlur(gt, (0, 0), float(rng.uniform(0.5, 1.5)))
    return gt


def predict_from_mask(rng, gt):
    """A plausible prediction: the mask shifted, blurred and noised, as uint8."""
    h, w = gt.shape
    shift = np.float32([[1, 0, rng.integers(-8, 9)], [0, 1, rng.integers(-8, 9)]])
    pred = cv2.warpAffine(gt, shift, (w, h)).astype(np.float64)
    pred = cv2.GaussianBlur(pred, (0, 0), float(rng.uniform(1, 6))) + rng.normal(0, 15, (h, w))
    return np.clip(pred, 0, 255).astype(np.uint8)


REAL_SIZES = ((321, 481), (375, 500), (500, 375), (333, 500))


def realistic_pair(rng):
    h, w = REAL_SIZES[int(rng.integers(len(REAL_SIZES)))]
    gt = _stroke_mask(rng, h, w)
    return predict_from_mask(rng, gt), gt


def real_mask_pairs(folder, num, rng):
    paths = sorted(glob.glob(osp.join(folder, '*.png')))[:num]
    if not paths:
        raise SystemExit(f'no *.png mask in {folder}')
    pairs = []
    for path in paths:
        gt = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        pairs.append((predict_from_mask(rng, gt), gt))
    return pairs


def run_pysodmetrics(pairs):
    import py_sod_metrics as psm
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # Fmeasure's deprecation notice
        evaluators = [psm.MAE(), psm.Fmeasure(), psm.Smeasure(), psm.Emeasure(),
                      psm.WeightedFmeasure()]
    for pred, gt in pairs:
        for evaluator in evaluators:
            evaluator.step(pred=pred, gt=gt)
    per_image = {'MAE': evaluators[0].maes, 'adpF': evaluators[1].adaptive_fms,
                 'Sm': evaluators[2].sms, 'adpEm': evaluators[3].adaptive_ems,
                 'wF': evaluators[4].weighted_fms}
    mae, fm, sm, em, wfm = (e.get_results() for e in evaluators)
    return per_image, {
        'MAE': mae['mae'], 'maxF': fm['fm']['curve'].max(), 'meanF': fm['fm']['curve'].mean(),
        'adpF': fm['fm']['adp'], 'Sm': sm['sm'], 'maxEm': em['em']['curve'].max(),
        'meanEm': em['em']['curve'].mean(), 'adpEm': em['em']['adp'], 'wF': wfm['wfm']}


def run_salbox(pairs):
    stats = [image_statistics(pred, gt, 'pysodmetrics') for pred, gt in pairs]
    return stats, aggregate_statistics(stats, 'pysodmetrics')[0]


def timed(fn, pairs):
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(pairs)
    return time.perf_counter() - wall, time.process_time() - cpu, result


REFERENCE_SCRIPT = """
import glob, os, sys, warnings
import cv2
import py_sod_metrics as psm
gt_dir, pred_dir = sys.argv[1:3]
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    evaluators = [psm.MAE(), psm.Fmeasure(), psm.Smeasure(), psm.Emeasure(),
                  psm.WeightedFmeasure()]
for gt_path in sorted(glob.glob(os.path.join(gt_dir, '*.png'))):
    gt = cv2.imread(gt_path, cv2.IMREAD_GRAYSCALE)
    pred = cv2.imread(os.path.join(pred_dir, os.path.basename(gt_path)), cv2.IMREAD_GRAYSCALE)
    for evaluator in evaluators:
        evaluator.step(pred=pred, gt=gt)
results = [e.get_results() for e in evaluators]
print('wFm', results[4]['wfm'])
"""

# Peak RSS from /proc/self/status VmHWM: ru_maxrss would carry over the parent's peak
# across fork + exec on Linux.
MEMORY_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[3])
from salbox.evaluation import evaluate_folder

def peak_kb():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1])

before = peak_kb()
scores, curves = evaluate_folder(sys.argv[2], sys.argv[1])
print(peak_kb(), before, scores['wF'])
"""


def write_pairs(pairs, root):
    gt_dir, pred_dir = osp.join(root, 'gt'), osp.join(root, 'pred')
    os.makedirs(gt_dir, exist_ok=True)
    os.makedirs(pred_dir, exist_ok=True)
    for i, (pred, gt) in enumerate(pairs):
        cv2.imwrite(osp.join(gt_dir, f'{i:05d}.png'), gt)
        cv2.imwrite(osp.join(pred_dir, f'{i:05d}.png'), pred)
    return gt_dir, pred_dir


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command, with_cpu=False):
    """Run a process; (wall seconds[, CPU seconds of the child], stdout)."""
    wall, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(command, capture_output=True, text=True, env=_env())
    seconds, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    if result.returncode != 0:
        raise SystemExit(f'{command[:3]} failed:\n{result.stderr[-2000:]}')
    return (seconds, cpu, result.stdout) if with_cpu else (seconds, result.stdout)


def _env():
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    return env


def end_to_end(pairs, rounds, label):
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        gt_dir, pred_dir = write_pairs(pairs, tmp)
        ours_cmd = [sys.executable, osp.join(repo, 'tools', 'eval_maps.py'), '--gt',
                    f'D={gt_dir}', '--pred', f'salbox=D:{pred_dir}', '--out',
                    osp.join(tmp, 'out'), '--no-progress']
        ref_cmd = [sys.executable, '-c', REFERENCE_SCRIPT, gt_dir, pred_dir]
        best_ref = best_ours = cpu_ref = cpu_ours = float('inf')
        for _ in range(rounds):
            seconds, cpu, _ = _run(ref_cmd, with_cpu=True)
            best_ref, cpu_ref = min(best_ref, seconds), min(cpu_ref, cpu)
            seconds, cpu, _ = _run(ours_cmd, with_cpu=True)
            best_ours, cpu_ours = min(best_ours, seconds), min(cpu_ours, cpu)
    print(f'end to end, {len(pairs)} {label} pairs written as PNG, one process each, '
          f'start-up included, best of {rounds} rounds')
    print('                                     wall s    CPU s (user+sys)')
    print(f'  pysodmetrics 1.6.2 script      : {best_ref:8.2f}  {cpu_ref:8.2f}')
    print(f'  tools/eval_maps.py (full suite): {best_ours:8.2f}  {cpu_ours:8.2f}')
    print(f'  speed-up                       : {best_ref / best_ours:7.2f}x  '
          f'{cpu_ref / cpu_ours:7.2f}x')
    return 0


def memory(counts):
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    rng = np.random.default_rng(0)
    print('peak resident memory of evaluate_folder (tools/eval_maps.py path), 96x128 pairs')
    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            pairs = (structured_pair(rng, 96, 128) for _ in range(count))  # never all in memory
            gt_dir, pred_dir = write_pairs(pairs, tmp)
            seconds, out = _run([sys.executable, '-c', MEMORY_SCRIPT, gt_dir, pred_dir, repo])
        peak_kb, start_kb = (int(v) for v in out.split()[:2])
        rows.append((count, peak_kb))
        print(f'  {count:6d} pairs: peak RSS {peak_kb / 1024:8.1f} MB (after imports '
              f'{start_kb / 1024:.1f} MB)   ({seconds:.1f} s)')
    if len(rows) > 1:
        (n0, m0), (n1, m1) = rows[0], rows[-1]
        print(f'  growth {n0} -> {n1} pairs: {(m1 - m0) / 1024:+.1f} MB '
              f'({(m1 - m0) * 1024 / (n1 - n0):.0f} bytes per extra pair)')
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--num', type=int, default=1000)
    parser.add_argument('--kind', choices=['realistic', 'structured', 'uniform'],
                        default='realistic')
    parser.add_argument('--real-masks', metavar='DIR',
                        help='use the *.png masks of DIR (predictions derived from them)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--end-to-end', action='store_true',
                        help='time tools/eval_maps.py against a PySODMetrics script, as processes')
    parser.add_argument('--memory', metavar='N,N', help='peak RSS at these pair counts')
    args = parser.parse_args(argv)

    if args.memory:
        return memory([int(n) for n in args.memory.split(',')])
    rng = np.random.default_rng(args.seed)
    if args.real_masks:
        pairs = real_mask_pairs(args.real_masks, args.num, rng)
        label = f'real-mask ({args.real_masks})'
    else:
        make = {'realistic': realistic_pair, 'structured': lambda r: structured_pair(r),
                'uniform': lambda r: uniform_pair(r)}[args.kind]
        pairs = [make(rng) for _ in range(args.num)]
        label = args.kind
    if args.end_to_end:
        return end_to_end(pairs, args.rounds, label)

    best_ref = best_ours = cpu_ref = cpu_ours = float('inf')
    for _ in range(args.rounds):
        seconds, cpu, reference = timed(run_pysodmetrics, pairs)
        best_ref, cpu_ref = min(best_ref, seconds), min(cpu_ref, cpu)
        seconds, cpu, ours = timed(run_salbox, pairs)
        best_ours, cpu_ours = min(best_ours, seconds), min(cpu_ours, cpu)

    print(f'{len(pairs)} {label} pairs, MAE + F + S + E + wF, one process, '
          f'best of {args.rounds} rounds')
    print('                      wall ms/img   CPU ms/img')
    per_image = 1e3 / len(pairs)
    print(f'  pysodmetrics 1.6.2: {best_ref * per_image:11.2f}  {cpu_ref * per_image:11.2f}')
    print(f'  salbox            : {best_ours * per_image:11.2f}  {cpu_ours * per_image:11.2f}')
    print(f'  speed-up          : {best_ref / best_ours:10.2f}x  {cpu_ref / cpu_ours:10.2f}x')
    (ref_images, reference), (our_images, ours) = reference, ours
    worst = 0.0
    print('  per image (the five per-image scores of every pair):')
    for name, values in ref_images.items():
        ref, mine = np.asarray(values, np.float64), np.array([s[name] for s in our_images])
        both_nan = np.isnan(ref) & np.isnan(mine)
        diff = np.where(both_nan, 0.0, np.abs(ref - mine))
        diff = float(np.max(np.nan_to_num(diff, nan=np.inf)))
        same = int(np.count_nonzero((ref == mine) | both_nan))
        worst = max(worst, diff)
        print(f'    {name:6s} largest difference {diff:.3g}, identical in {same}/{len(ref)}')
    print('  data set scores:')
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
