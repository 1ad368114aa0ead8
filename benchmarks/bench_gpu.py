"""GPU benchmarks: the propagation op, R3Net training throughput and ARN's attention memory.

Run on a CUDA machine from the repository root, after building the extension with CUDA
(``tools/gpu_check.sh`` does both)::

    python benchmarks/bench_gpu.py --out work_dirs/gpu_bench      # all three parts
    python benchmarks/bench_gpu.py --parts propagation --repeats 20

Every figure is a ratio against a reference measured in the same process, on the same GPU:

* ``propagation``: salbox's CUDA kernel (``salbox.ops.local_propagation``) against the
  ``F.unfold`` formula (``local_propagation_reference``) on the same GPU, forward + backward
  with gradients for coefficients and saliency (n = 5, DGRL's window), at DGRL's 480 x 480 test
  size, a 8 x 384 x 384 training batch and larger maps. Time: median of ``--repeats`` runs
  (CUDA events) after warm-up; memory: ``torch.cuda.max_memory_allocated`` above the inputs.
* ``r3net``: one training step of R3Net (ResNeXt-101 32x4d, the paper's model, random weights)
  at the paper's batch 14 and 300 x 300 (SGD, deep-supervision BCE on the seven outputs), in
  float32 and under ``torch.autocast(bfloat16)``: images per second and peak memory. Reference:
  the ResNeXt-101 backbone's own forward + backward in float32.
* ``arn``: one ARN-VGG16 training step (the paper config) with the self-attention through
  ``scaled_dot_product_attention`` ("fused") and the explicit (HW)^2 softmax ("explicit"), at
  224 x 224 (batch 8) and 352 x 352 (batch 1 and 8): peak memory and time, explicit / fused;
  plus the attention kernels the fused path ran (from the profiler).

Writes ``bench_gpu.json`` and ``bench_gpu.md`` under ``--out`` and prints the tables.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

GIB = 1024 ** 3
PARTS = ('propagation', 'r3net', 'arn')


def cuda_time(fn, repeats: int, warmup: int = 2) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs, timed with CUDA events."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    return statistics.median(times)


def warm_up_gpu(seconds: float = 2.0) -> None:
    """Matrix products until the clocks are up (an idle H200 reports 345 MHz), so that the first
    case is not timed while they ramp."""
    a = torch.randn(8192, 8192, device='cuda', dtype=torch.bfloat16)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ a
        torch.cuda.synchronize()


def peak_bytes(fn) -> int:
    """Bytes allocated at the peak of one ``fn()`` on top of what was allocated before."""
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


# ----------------------------------------------------------------------------- propagation
def bench_propagation(repeats: int):
    from salbox.ops import extension_available, local_propagation, local_propagation_reference
    if not extension_available(torch.device('cuda')):
        raise RuntimeError('salbox._ext has no CUDA kernels: build it with a CUDA torch first')
    rows = []
    for batch, height, width in ((1, 480, 480), (8, 384, 384), (1, 1024, 1024),
                                 (4, 1024, 1024)):
        generator = torch.Generator(device='cuda').manual_seed(0)
        coeffs = torch.randn(batch, 25, height, width, device='cuda', generator=generator)
        saliency = torch.rand(batch, 1, height, width, device='cuda', generator=generator)
        result = dict(case=f'{batch} x 25 x {height} x {width}')
        for name, op in (('csrc', local_propagation), ('unfold', local_propagation_reference)):
            def step(op=op, coeffs=coeffs, saliency=saliency):
                v = coeffs.detach().requires_grad_()
                s = saliency.detach().requires_grad_()
                op(v, s, 'both').square().sum().backward()
            result[f'{name}_ms'] = cuda_time(step, repeats) * 1000
            result[f'{name}_peak_mib'] = peak_bytes(step) / 2 ** 20
        result['speedup'] = result['unfold_ms'] / result['csrc_ms']
        result['memory_saving'] = result['unfold_peak_mib'] / result['csrc_peak_mib']
        rows.append(result)
        print(json.dumps(result), flush=True)
        del coeffs, saliency
    return rows


# ----------------------------------------------------------------------------- R3Net
def build(config: str, edit=None):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from salbox.registry import MODELS
    init_default_scope('salbox')
    cfg = Config.fromfile(os.path.join(ROOT, config))
    model_cfg = cfg.model
    model_cfg.get('backbone', {}).pop('init_cfg', None)
    model_cfg['postprocessors'] = []
    if edit is not None:
        edit(model_cfg)
    return MODELS.build(model_cfg)


def bench_r3net(repeats: int, batch: int = 14, size: int = 300):
    torch.manual_seed(0)
    model = build('configs/_base_/models/r3net_resnext101.py').cuda().train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    images = torch.randn(batch, 3, size, size, device='cuda')
    masks = (torch.rand(batch, 1, size, size, device='cuda') > 0.5).float()

    def train_step(dtype=None):
        with torch.autocast('cuda', dtype=dtype or torch.float32, enabled=dtype is not None):
            outputs = model(images, mode='tensor')
            loss = sum(model.loss_module(outputs, masks).values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def backbone_step():
        model.backbone(images)[-1].float().mean().backward()
        model.zero_grad(set_to_none=True)

    rows = []
    reference = cuda_time(backbone_step, repeats)
    rows.append(dict(case='ResNeXt-101 backbone fwd+bwd, float32', ms=reference * 1000,
                     images_per_s=batch / reference, ratio=1.0,
                     peak_gib=peak_bytes(backbone_step) / GIB))
    for name, dtype in (('float32', None), ('bfloat16 autocast', torch.bfloat16)):
        seconds = cuda_time(lambda: train_step(dtype), repeats)
        rows.append(dict(case=f'R3Net train step, {name}', ms=seconds * 1000,
                         images_per_s=batch / seconds, ratio=seconds / reference,
                         peak_gib=peak_bytes(lambda: train_step(dtype)) / GIB))
    for row in rows:
        row.update(batch=batch, size=size)
        print(json.dumps(row), flush=True)
    return rows


# ----------------------------------------------------------------------------- ARN
def attention_kernels():
    """The CUDA kernels one fused attention call runs (forward and backward)."""
    from salbox.models.layers.self_attention import attention_fused
    q, k = (torch.randn(1, 784, 64, device='cuda', requires_grad=True) for _ in range(2))
    v = torch.randn(1, 784, 512, device='cuda', requires_grad=True)
    with torch.profiler.profile() as prof:
        attention_fused(q, k, v).sum().backward()
        torch.cuda.synchronize()
    return sorted({e.name for e in prof.events()
                   if 'attention' in e.name.lower() or 'fmha' in e.name.lower()
                   or 'flash' in e.name.lower()})


def bench_arn(repeats: int):
    rows = []
    for batch, size in ((8, 224), (1, 352), (8, 352)):
        result = dict(case=f'{size} x {size}, batch {batch}')
        for impl in ('fused', 'explicit'):
            torch.manual_seed(0)

            def set_impl(model_cfg, impl=impl):
                model_cfg['neck']['attention']['impl'] = impl
            model = build('configs/arn/arn_vgg16_msra10k-dutomron.py', set_impl).cuda().train()
            images = torch.randn(batch, 3, size, size, device='cuda')
            masks = (torch.rand(batch, 1, size, size, device='cuda') > 0.5).float()

            def step(model=model, images=images, masks=masks):
                loss = sum(model.loss_module(model._forward(images), masks).values())
                loss.backward()
                model.zero_grad(set_to_none=True)
            try:
                result[f'{impl}_ms'] = cuda_time(step, repeats, warmup=1) * 1000
                result[f'{impl}_peak_gib'] = peak_bytes(step) / GIB
            except torch.cuda.OutOfMemoryError:
                result[f'{impl}_ms'] = result[f'{impl}_peak_gib'] = float('nan')
            del model, images, masks
            torch.cuda.empty_cache()
        result['time_ratio'] = result['explicit_ms'] / result['fused_ms']
        result['memory_ratio'] = result['explicit_peak_gib'] / result['fused_peak_gib']
        rows.append(result)
        print(json.dumps(result), flush=True)
    return rows


# ----------------------------------------------------------------------------- report
def markdown(results) -> str:
    lines = [f'GPU: {results["device"]}, torch {results["torch"]}', '']
    if 'propagation' in results:
        lines += ['| propagation fwd+bwd (n=5) | CUDA kernel ms | unfold ms | speed-up | '
                  'kernel MiB | unfold MiB | memory saving |', '|---|---|---|---|---|---|---|']
        lines += [f'| {r["case"]} | {r["csrc_ms"]:.3f} | {r["unfold_ms"]:.3f} | '
                  f'{r["speedup"]:.1f}x | {r["csrc_peak_mib"]:.0f} | {r["unfold_peak_mib"]:.0f} | '
                  f'{r["memory_saving"]:.1f}x |' for r in results['propagation']]
        lines.append('')
    if 'r3net' in results:
        lines += ['| R3Net ResNeXt-101, batch 14 at 300x300 | ms/step | images/s | x backbone | '
                  'peak GiB |', '|---|---|---|---|---|']
        lines += [f'| {r["case"]} | {r["ms"]:.1f} | {r["images_per_s"]:.1f} | '
                  f'{r["ratio"]:.2f} | {r["peak_gib"]:.2f} |' for r in results['r3net']]
        lines.append('')
    if 'arn' in results:
        lines += ['| ARN-VGG16 train step | fused ms | explicit ms | time explicit/fused | '
                  'fused GiB | explicit GiB | memory explicit/fused |',
                  '|---|---|---|---|---|---|---|']
        lines += [f'| {r["case"]} | {r["fused_ms"]:.1f} | {r["explicit_ms"]:.1f} | '
                  f'{r["time_ratio"]:.2f} | {r["fused_peak_gib"]:.2f} | '
                  f'{r["explicit_peak_gib"]:.2f} | {r["memory_ratio"]:.2f} |'
                  for r in results['arn']]
        lines += ['', 'Fused attention kernels: ' + ', '.join(results.get('arn_kernels', []))]
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--parts', nargs='+', choices=PARTS, default=list(PARTS))
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--out', default='work_dirs/gpu_bench', help='folder for the tables')
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit('bench_gpu: torch sees no CUDA device (this benchmark needs a GPU)')
    torch.backends.cudnn.benchmark = True
    warm_up_gpu()
    results = dict(device=torch.cuda.get_device_name(0), torch=torch.__version__)
    failed = []
    for part in args.parts:
        try:
            results[part] = globals()[f'bench_{part}'](args.repeats)
            if part == 'arn':
                results['arn_kernels'] = attention_kernels()
        except Exception as err:  # report the other parts all the same
            failed.append(part)
            results[f'{part}_error'] = f'{type(err).__name__}: {err}'
            print(f'bench_gpu: {part} failed: {type(err).__name__}: {err}', file=sys.stderr)
        torch.cuda.empty_cache()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'bench_gpu.json'), 'w') as f:
        json.dump(results, f, indent=1)
    table = markdown(results)
    with open(os.path.join(args.out, 'bench_gpu.md'), 'w') as f:
        f.write(table)
    print(table)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
