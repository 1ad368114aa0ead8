"""Benchmark: one ARN-VGG16 training step (forward + backward) with the self-attention computed by
``scaled_dot_product_attention`` ("fused") against the explicit (HW)^2 formula ("explicit").

Run from the repository root::

    python benchmarks/bench_arn.py                  # the two cases below, both implementations
    python benchmarks/bench_arn.py --budget-gib 12  # largest peak a run may reach (else predicted)

Model: the paper config's network (configs/arn/arn_vgg16_msra10k-dutomron.py: VGG16, RCLs with
T = 3, self-attention on S5 and at the 28, 56 and 112 stages of a 224 input), random weights, in
training mode; the step is the deep-supervision BCE loss on all four outputs against a random
mask, then ``backward()``. Cases: 224 x 224 at batch 8 and 352 x 352 at batch 1.

Peak memory (as benchmarks/bench_local_propagation.py): each (case, implementation) runs in a fresh
subprocess with ``MALLOC_MMAP_THRESHOLD_=65536`` (glibc serves every block of 64 KiB or more with
its own mmap and returns it on free, so the resident set follows the live tensors). The child
builds the model and the inputs, warms up on a 32 x 32 input (loads kernels, starts the thread
pool), drops the gradients, records VmRSS, resets the high-water mark
(``echo 5 > /proc/self/clear_refs``), runs one step and reports VmHWM - VmRSS: every byte
allocated on top of the weights and inputs at the worst moment (activations, the attention
matrices, gradients). Linux only. Time: the same child times that one step (``--repeats`` more
steps give a median); wall-clock on a shared machine, so read the ratios rather than the seconds.

The explicit form stores, per attention block and image, the N x N softmax (N = h w) for the
backward pass and briefly two more N x N tensors, so a case whose predicted peak exceeds
``--budget-gib`` (default: 80 % of MemAvailable, at most 10 GiB) is not run: the table then
shows the prediction
``fused peak + k * 4 B * batch * sum_blocks N^2`` with k (N x N float32 tensors alive at the
peak) calibrated from the explicit and fused runs at 224, batch 1 (the matrices are per image, so
the explicit excess is linear in the batch). The same
formula gives the square input side at which one image's explicit step would pass 24 GiB.

The table also names the kernel SDPA ran on this machine (from the profiler, on a small input).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CONFIG = os.path.join(ROOT, 'configs/arn/arn_vgg16_msra10k-dutomron.py')
CASES = ((8, 224), (1, 352))
CALIBRATION = (1, 224)
IMPLS = ('fused', 'explicit')
GIB = 1024 ** 3
DEFAULT_BUDGET_GIB = 10  # a shared machine: stay well below what others need


def attention_positions(size):
    """N = h w of the four attention blocks (S5, S_att4, S_att3, S_att2) for a square input."""
    return [(size // s) ** 2 for s in (16, 8, 4, 2)]


def matrix_elements(size):
    """sum over the attention blocks of N^2: the elements of one image's attention matrices."""
    return sum(n * n for n in attention_positions(size))


def build_model(impl):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from salbox.registry import MODELS
    init_default_scope('salbox')
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    cfg.model.neck.attention.impl = impl
    return MODELS.build(cfg.model).train()


def make_inputs(batch, size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    image = torch.randn(batch, 3, size, size, generator=generator)
    mask = (torch.rand(batch, 1, size, size, generator=generator) > 0.5).float()
    return image, mask


def train_step(model, image, mask):
    logits = model._forward(image)
    loss = sum(model.loss_module(logits, mask).values())
    loss.backward()
    model.zero_grad(set_to_none=True)


def read_status(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'{key} not found in /proc/self/status')


def child(impl, batch, size, repeats):
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    torch.manual_seed(0)
    model = build_model(impl)
    train_step(model, *make_inputs(1, 32))  # load code, start pools
    image, mask = make_inputs(batch, size)
    before = read_status('VmRSS')
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    start = time.perf_counter()
    train_step(model, image, mask)
    times = [time.perf_counter() - start]
    peak = read_status('VmHWM') - before
    for _ in range(repeats - 1):
        start = time.perf_counter()
        train_step(model, image, mask)
        times.append(time.perf_counter() - start)
    print(json.dumps({'peak_bytes': peak, 'seconds': statistics.median(times)}))


def run_child(impl, batch, size, repeats):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    env.setdefault('OMP_NUM_THREADS', '1')
    cmd = [sys.executable, os.path.abspath(__file__), '--child', impl, str(batch), str(size),
           '--repeats', str(repeats)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f'{impl} at {size} x {batch} failed:\n{result.stderr[-2000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def sdpa_kernel_names():
    """The aten kernels one fused attention call runs here (forward and backward)."""
    from salbox.models.layers.self_attention import attention_fused
    q, k = (torch.randn(1, 256, 8, requires_grad=True) for _ in range(2))
    v = torch.randn(1, 256, 64, requires_grad=True)
    with torch.profiler.profile() as prof:
        attention_fused(q, k, v).sum().backward()
    names = sorted({e.name for e in prof.events()
                    if 'attention' in e.name or 'softmax' in e.name or e.name == 'aten::bmm'})
    return [n for n in names if n != 'aten::scaled_dot_product_attention']


def mem_available():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) * 1024
    return 0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repeats', type=int, default=1, help='timed steps per case')
    parser.add_argument('--budget-gib', type=float, default=None,
                        help='largest predicted peak to run (default: 80%% of MemAvailable, '
                             f'at most {DEFAULT_BUDGET_GIB} GiB)')
    parser.add_argument('--child', nargs=3, metavar=('IMPL', 'BATCH', 'SIZE'),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.child:
        impl, batch, size = args.child
        child(impl, int(batch), int(size), args.repeats)
        return
    budget = args.budget_gib * GIB if args.budget_gib \
        else min(0.8 * mem_available(), DEFAULT_BUDGET_GIB * GIB)
    print(f'torch {torch.__version__}, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "1")}, '
          f'budget {budget / GIB:.1f} GiB')
    print('SDPA kernels run by the fused path:', ', '.join(sdpa_kernel_names()))

    measured = {}

    def measure(impl, batch, size):
        result = run_child(impl, batch, size, args.repeats)
        measured[(impl, batch, size)] = result
        print(json.dumps(dict(impl=impl, batch=batch, size=size, **result)), flush=True)
        return result

    # k: N x N float32 tensors alive at the explicit peak, per block and image.
    measure('explicit', *CALIBRATION)
    measure('fused', *CALIBRATION)
    for batch, size in CASES:
        if (batch, size) != CALIBRATION:
            measure('fused', batch, size)
    excess = measured[('explicit', ) + CALIBRATION]['peak_bytes'] - \
        measured[('fused', ) + CALIBRATION]['peak_bytes']
    k = excess / (4 * CALIBRATION[0] * matrix_elements(CALIBRATION[1]))

    def predicted_explicit(batch, size, fused_peak):
        return fused_peak + k * 4 * batch * matrix_elements(size)

    rows = []
    for batch, size in (CALIBRATION, ) + CASES:
        fused = measured[('fused', batch, size)]
        prediction = predicted_explicit(batch, size, fused['peak_bytes'])
        if (batch, size) == CALIBRATION:
            explicit, source = measured[('explicit', batch, size)], 'measured'
        elif prediction <= budget:
            explicit = measure('explicit', batch, size)
            source = 'measured'
        else:
            explicit = dict(peak_bytes=prediction, seconds=float('nan'))
            source = f'predicted (> budget {budget / GIB:.1f} GiB, not run)'
        rows.append((batch, size, fused, explicit, source, prediction))

    print(f'\ncalibration ({CALIBRATION[1]}, batch {CALIBRATION[0]}): explicit - fused peak = '
          f'{excess / GIB:.2f} GiB: k = {k:.2f} N x N float32 tensors per block and image at '
          'the peak')
    print('\n| input | batch | fused peak | fused time | explicit peak | explicit time | '
          'explicit / fused memory | explicit |')
    print('|---|---|---|---|---|---|---|---|')
    for batch, size, fused, explicit, source, prediction in rows:
        ratio = explicit['peak_bytes'] / fused['peak_bytes']
        print(f'| {size} x {size} | {batch} | {fused["peak_bytes"] / GIB:.2f} GiB | '
              f'{fused["seconds"]:.1f} s | {explicit["peak_bytes"] / GIB:.2f} GiB | '
              f'{explicit["seconds"]:.1f} s | {ratio:.1f}x | {source}; formula '
              f'{prediction / GIB:.2f} GiB |')

    # Fused peak per pixel (batch 1) from the two fused runs at batch 1 (224 and 352).
    f224 = measured[('fused', 1, 224)]['peak_bytes']
    f352 = measured[('fused', 1, 352)]['peak_bytes']
    per_pixel = (f352 - f224) / (352 ** 2 - 224 ** 2)
    base = f224 - per_pixel * 224 ** 2
    size = 224
    while base + per_pixel * size ** 2 + k * 4 * matrix_elements(size) <= 24 * GIB:
        size += 16
    print(f'\nexplicit form, batch 1: above 24 GiB from a {size} x {size} input '
          f'(stride-2 attention block N = {(size // 2) ** 2}); fused peak there about '
          f'{(base + per_pixel * size ** 2) / GIB:.2f} GiB')


if __name__ == '__main__':
    main()
