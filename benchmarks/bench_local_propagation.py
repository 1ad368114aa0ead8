"""Benchmark: salbox's C++ local propagation operator against the ``F.unfold`` reference.

Run from the repository root after building the extension::

    pip install --no-build-isolation -e .
    python benchmarks/bench_local_propagation.py            # both sizes, 1 thread and default
    python benchmarks/bench_local_propagation.py --threads 1 --repeats 15

Cases: DGRL's BRN at test size, 1 x 25 x 480 x 480, and a training batch, 8 x 25 x 384 x 384
(n = 5), each with gradients for coeffs and saliency ("v+s", the operator as specified) and
for coeffs only ("v", DGRL's use: the BRN's input map is a detached stage-1 output).

Time: one forward + ``out.sum().backward()``, interleaved between the two implementations
(C++, reference, C++, ...) so that both see the same machine load; the table gives the
median (and the minimum) over ``--repeats`` runs after one warm-up run each, in one process,
for each intra-op thread count in ``--threads``.

Peak memory: torch's CPU allocator keeps no statistics, so each (case, implementation) runs in
a fresh subprocess with ``MALLOC_MMAP_THRESHOLD_=65536`` (glibc serves every allocation of 64 KiB
or more with its own mmap and unmaps it on free, so the resident set follows the live tensors
instead of a cached heap). The child builds the inputs, warms up on a tiny input (loads the
extension, starts the thread pool), records its resident set (VmRSS), resets the kernel's
high-water mark (``echo 5 > /proc/self/clear_refs``), runs one forward + backward, and reports
VmHWM - VmRSS: every byte allocated on top of the inputs at the worst moment (outputs, saved
tensors, temporaries and the gradients). Linux only.

Ratios are reference / C++: time speed-up and memory saving (both > 1 is better).
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

from salbox.ops import (extension_available, local_propagation,  # noqa: E402
                        local_propagation_reference)

SIZES = ((1, 480, 480), (8, 384, 384))
WINDOW = 5
GRADS = ('v+s', 'v')
IMPLEMENTATIONS = {'csrc': local_propagation, 'unfold': local_propagation_reference}


def make_inputs(batch, height, width, grads, size=WINDOW, seed=0):
    generator = torch.Generator().manual_seed(seed)
    coeffs = torch.randn(batch, size * size, height, width, generator=generator)
    saliency = torch.rand(batch, 1, height, width, generator=generator)
    coeffs.requires_grad_(True)
    saliency.requires_grad_(grads == 'v+s')
    return coeffs, saliency


def forward_backward(op, coeffs, saliency):
    op(coeffs, saliency).sum().backward()
    coeffs.grad = None
    saliency.grad = None


def time_case(batch, height, width, grads, repeats):
    """Median and min seconds of forward + backward for each implementation, interleaved."""
    coeffs, saliency = make_inputs(batch, height, width, grads)
    times = {name: [] for name in IMPLEMENTATIONS}
    for op in IMPLEMENTATIONS.values():
        forward_backward(op, coeffs, saliency)
    for _ in range(repeats):
        for name, op in IMPLEMENTATIONS.items():
            start = time.perf_counter()
            forward_backward(op, coeffs, saliency)
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


def read_status(key):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f'{key} not found in /proc/self/status')


def measure_memory_child(name, batch, height, width, grads):
    """In a fresh process: bytes allocated on top of the inputs during forward + backward."""
    torch.set_num_threads(1)
    op = IMPLEMENTATIONS[name]
    forward_backward(op, *make_inputs(1, 16, 16, grads))  # load code, start pools
    coeffs, saliency = make_inputs(batch, height, width, grads)
    before = read_status('VmRSS')
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    forward_backward(op, coeffs, saliency)
    print(json.dumps({'peak_bytes': read_status('VmHWM') - before}))


def measure_memory(name, batch, height, width, grads):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536')
    cmd = [sys.executable, os.path.abspath(__file__), '--memory-child', name, str(batch),
           str(height), str(width), grads]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f'memory measurement of {name} failed:\n{result.stderr}')
    return json.loads(result.stdout.strip().splitlines()[-1])['peak_bytes']


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--threads', type=int, nargs='+', default=None,
                        help='intra-op thread counts to time (default: 1 and torch default)')
    parser.add_argument('--repeats', type=int, default=7, help='timed runs per case')
    parser.add_argument('--no-memory', action='store_true', help='skip peak memory')
    parser.add_argument('--memory-child', nargs=5, metavar=('IMPL', 'B', 'H', 'W', 'GRADS'),
                        help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.memory_child:
        name, batch, height, width, grads = args.memory_child
        measure_memory_child(name, int(batch), int(height), int(width), grads)
        return
    if not extension_available():
        sys.exit('salbox._ext is not built, so there is nothing to compare: run '
                 '`pip install --no-build-isolation -e .` first.')
    threads = args.threads or sorted({1, torch.get_num_threads()})
    print(f'torch {torch.__version__}, n = {WINDOW}, float32, forward + backward, '
          f'median (min) of {args.repeats} runs; ratio = unfold / csrc')
    header = (f'{"case":>16} {"grads":>5} {"thr":>3} | {"csrc ms":>15} {"unfold ms":>15} '
              f'{"speed-up":>8} | {"csrc MiB":>8} {"unfold MiB":>10} {"saving":>6}')
    print(header)
    print('-' * len(header))
    for batch, height, width in SIZES:
        for grads in GRADS:
            memory = None
            if not args.no_memory:
                memory = {name: measure_memory(name, batch, height, width, grads)
                          for name in IMPLEMENTATIONS}
            for num_threads in threads:
                torch.set_num_threads(num_threads)
                timing = time_case(batch, height, width, grads, args.repeats)
                (ours, ours_min), (ref, ref_min) = timing['csrc'], timing['unfold']
                line = (f'{batch}x{WINDOW * WINDOW}x{height}x{width:<4} {grads:>5} '
                        f'{num_threads:>3} | {ours * 1e3:7.1f} ({ours_min * 1e3:5.1f}) '
                        f'{ref * 1e3:7.1f} ({ref_min * 1e3:5.1f}) {ref / ours:7.2f}x |')
                if memory is not None:
                    line += (f' {memory["csrc"] / 2**20:8.1f} {memory["unfold"] / 2**20:10.1f} '
                             f'{memory["unfold"] / memory["csrc"]:5.2f}x')
                print(line, flush=True)


if __name__ == '__main__':
    main()
