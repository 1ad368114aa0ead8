"""Parameters, FLOPs and speed of a config's model, as a Markdown table for a README.

    python tools/analysis_tools/benchmark.py configs/r3net/r3net_resnet18_synthetic.py \\
        --shape 160 160 --batch-size 4
    python tools/analysis_tools/benchmark.py CONFIG CHECKPOINT --device cuda --shape 300 300
    python tools/analysis_tools/benchmark.py --all-configs configs --shape 300 300 \\
        --update-doc docs/model_zoo.md     # regenerate the model-zoo table

What is measured (after MMSegmentation's ``tools/analysis_tools/benchmark.py`` and
``get_flops.py``, which report the same quantities):

* parameters: all parameters of the built model (trainable ones in brackets when fewer);
* FLOPs: mmengine's ``get_model_complexity_info`` (a JIT-trace counter derived from fvcore) on
  the network forward (``mode='tensor'``) for one image of ``--shape``. One fused multiply-add
  counts as one FLOP (fvcore's convention, also MMSeg's). Post-processors such as DenseCRF are
  not network operators and are not counted. If tracing fails, a forward-hook count of the
  convolution and linear layers is used instead and the value is marked ``>=``;
* images/s at batch 1 and batch ``--batch-size``: random inputs, ``--warmup`` untimed
  iterations, then ``--iters`` timed iterations, repeated ``--repeat`` times (median reported).
  ``--mode tensor`` (default) times the network; ``--mode predict`` times the full prediction
  (resize to the original size, sigmoid, post-processors such as DenseCRF).

Speeds depend on the machine and on ``OMP_NUM_THREADS``: the table header says which.
"""
import argparse
import copy
import glob
import os
import os.path as osp
import statistics
import sys
import time
from typing import List, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)  # run from a checkout

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

TABLE_START = '<!-- benchmark-table:start -->'
TABLE_END = '<!-- benchmark-table:end -->'
HEADER = ('| config | input | params | FLOPs | img/s (batch 1) | img/s (batch {n}) |\n'
          '|---|---|---|---|---|---|')


# ----------------------------------------------------------------------------- model and inputs
def build_model(config: str, checkpoint: Optional[str] = None, device: str = 'cpu',
                cfg_options: Optional[dict] = None) -> nn.Module:
    """The config's model in eval mode, without pretrained initialisation (random weights are
    as fast as trained ones), with ``checkpoint`` loaded when given."""
    from salbox.apis.inference import init_model
    from salbox.utils.errors import SalboxError
    if not osp.isfile(config):
        raise SalboxError(f'config file not found: {config}')
    return init_model(config, checkpoint, device=device, cfg_options=cfg_options)


def make_batch(batch_size: int, shape: Sequence[int], device: str, seed: int = 0):
    """Random normalised inputs and matching data samples (original image, a mask for first
    stages that read it, meta information), all at ``shape``."""
    from mmengine.structures import PixelData

    from salbox.structures import SalDataSample
    h, w = int(shape[0]), int(shape[1])
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch_size, 3, h, w, generator=gen).to(device)
    samples = []
    for _ in range(batch_size):
        sample = SalDataSample(metainfo=dict(ori_shape=(h, w), img_shape=(h, w)))
        image = torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
        sample.ori_img = PixelData(data=image.to(device))
        mask = (torch.rand(1, h, w, generator=gen) > 0.5).float()
        sample.gt_sal_map = PixelData(data=mask.to(device))
        samples.append(sample)
    return inputs, samples


class _TensorForward(nn.Module):
    """``model(inputs, samples, mode='tensor')`` as a one-argument module for the JIT tracer
    (the data samples are constants of the trace)."""

    def __init__(self, model: nn.Module, samples):
        super().__init__()
        self.model = model
        self.samples = samples

    def forward(self, inputs):
        return tuple(self.model(inputs, self.samples, mode='tensor'))


# ----------------------------------------------------------------------------- counts
def count_parameters(model: nn.Module):
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def conv_linear_flops(model: nn.Module, inputs: torch.Tensor, samples) -> int:
    """Multiply-adds of every Conv2d / Linear layer in one forward, from forward hooks
    (the fallback counter, and an independent check of the JIT counter)."""
    total = [0]

    def conv_hook(module, args, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        total[0] += output.numel() * k * module.in_channels // module.groups

    def linear_hook(module, args, output):
        total[0] += output.numel() * module.in_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    try:
        with torch.no_grad():
            model(inputs, samples, mode='tensor')
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


class quiet_mmengine:
    """Silence mmengine's logger below ERROR inside the block: the complexity counter warns
    about every operator it has no *activation* rule for, which says nothing about FLOPs."""

    def __enter__(self):
        import logging

        from mmengine.logging import MMLogger
        self.logger = MMLogger.get_current_instance()
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)
        return False


def _baddbmm_flops(inputs, outputs) -> int:
    """``baddbmm(input, batch1, batch2)``: the multiply-adds of ``bmm(batch1, batch2)``, as
    mmengine counts ``bmm`` (the MI promoter's factored fusion sums its resized projections
    with it)."""
    from mmengine.analysis.jit_handles import get_shape
    n, c, t = get_shape(inputs[1])
    return n * c * t * get_shape(inputs[2])[-1]


def _attention_flops(inputs, outputs) -> int:
    """``scaled_dot_product_attention(q, k, v)``: the multiply-adds of its two products,
    ``q @ k^T`` and ``softmax(.) @ v`` (L x S x (E + Ev) per batch element and head), as
    mmengine counts the same two ``matmul`` calls of the explicit form (ARN's fused
    self-attention; mmengine 0.10.7 skips the fused op as unsupported)."""
    from mmengine.analysis.jit_handles import get_shape
    *batch, length, embed = get_shape(inputs[0])
    source, value_embed = get_shape(inputs[2])[-2:]
    count = length * source * (embed + value_embed)
    for size in batch:
        count *= size
    return count


def count_extra_ops() -> None:
    """Teach mmengine's FLOP counter ``aten::baddbmm`` (it knows ``bmm``, not this one) and
    ``aten::scaled_dot_product_attention``."""
    from mmengine.analysis import complexity_analysis
    handles = {'aten::baddbmm': _baddbmm_flops, 'aten::baddbmm_': _baddbmm_flops,
               'aten::scaled_dot_product_attention': _attention_flops}
    for op, handle in handles.items():
        complexity_analysis._DEFAULT_SUPPORTED_FLOP_OPS.setdefault(op, handle)


def complexity_info(model: nn.Module, shape: Sequence[int], device: str = 'cpu',
                    show_table: bool = False) -> dict:
    """mmengine's ``get_model_complexity_info`` for the network forward of one image."""
    from mmengine.analysis import get_model_complexity_info
    count_extra_ops()
    inputs, samples = make_batch(1, shape, device)
    with quiet_mmengine(), torch.no_grad():
        return get_model_complexity_info(_TensorForward(model, samples), inputs=(inputs,),
                                         show_table=show_table, show_arch=False)


def count_flops(model: nn.Module, shape: Sequence[int], device: str = 'cpu'):
    """(FLOPs for one image, exact: bool). Exact means mmengine's JIT counter succeeded."""
    try:
        return int(complexity_info(model, shape, device)['flops']), True
    except Exception as err:  # tracing can fail on custom ops: fall back, say so
        print(f'note: mmengine FLOP counter failed ({type(err).__name__}: '
              f'{str(err).splitlines()[0][:120]}); counting Conv2d/Linear layers only',
              file=sys.stderr)
        inputs, samples = make_batch(1, shape, device)
        return conv_linear_flops(model, inputs, samples), False


# ----------------------------------------------------------------------------- speed
def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


@torch.no_grad()
def images_per_second(model: nn.Module, shape: Sequence[int], batch_size: int,
                      device: str = 'cpu', mode: str = 'tensor', warmup: int = 2,
                      iters: int = 5, repeat: int = 1) -> float:
    """Median over ``repeat`` runs of images/s over ``iters`` timed iterations after
    ``warmup`` untimed ones."""
    inputs, samples = make_batch(batch_size, shape, device)
    rates = []
    for _ in range(max(1, repeat)):
        for _ in range(warmup):
            model(inputs, copy.deepcopy(samples), mode=mode)
        _sync(device)
        elapsed = 0.0
        for _ in range(max(1, iters)):
            batch_samples = copy.deepcopy(samples)  # predict writes into the samples
            _sync(device)
            start = time.perf_counter()
            model(inputs, batch_samples, mode=mode)
            _sync(device)
            elapsed += time.perf_counter() - start
        rates.append(batch_size * max(1, iters) / elapsed)
    return statistics.median(rates)


# ----------------------------------------------------------------------------- formatting
def human(value: float, unit: str = '') -> str:
    for scale, suffix in ((1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'K')):
        if abs(value) >= scale:
            return f'{value / scale:.2f} {suffix}{unit}'.rstrip()
    return f'{value:.0f} {unit}'.rstrip()


def relative_config(config: str) -> str:
    path = osp.abspath(config)
    return osp.relpath(path, REPO) if path.startswith(REPO + os.sep) else config


def benchmark_config(config: str, checkpoint: Optional[str], shape: Sequence[int],
                     batch_size: int, device: str = 'cpu', mode: str = 'tensor',
                     warmup: int = 2, iters: int = 5, repeat: int = 1,
                     flops_only: bool = False, cfg_options: Optional[dict] = None) -> dict:
    """One row of measurements (numbers and their formatted cells).

    A post-processor that cannot be built without its own weights (e.g. a learned promoter
    pointing at a checkpoint that does not exist yet) does not stop a ``tensor``-mode
    measurement, which never runs post-processors: the model is rebuilt without them and the
    row says so."""
    from salbox.utils.errors import SalboxError
    note = None
    try:
        model = build_model(config, checkpoint, device, cfg_options)
    except (SalboxError, FileNotFoundError) as err:
        if mode != 'tensor' or checkpoint is not None:
            raise
        options = dict(cfg_options or {}, **{'model.postprocessors': []})
        model = build_model(config, None, device, options)
        note = f'without post-processors ({str(err).splitlines()[0][:80]})'
        print(f'note: {relative_config(config)}: built {note}', file=sys.stderr)
    total, trainable = count_parameters(model)
    flops, exact = count_flops(model, shape, device)
    row = dict(config=relative_config(config), shape=tuple(shape), params=total,
               trainable=trainable, flops=flops, flops_exact=exact, note=note)
    if not flops_only:
        row['fps_1'] = images_per_second(model, shape, 1, device, mode, warmup, iters, repeat)
        row['fps_n'] = (row['fps_1'] if batch_size == 1 else
                        images_per_second(model, shape, batch_size, device, mode, warmup,
                                          iters, repeat))
    return row


def format_row(row: dict) -> str:
    if 'error' in row:
        return f"| `{row['config']}` | {'x'.join(map(str, row['shape']))} | " \
               f"error: {row['error']} | | | |"
    params = human(row['params'])
    if row['trainable'] != row['params']:
        params += f" ({human(row['trainable'])} trainable)"
    if row.get('note'):
        params += ' (no post-processors)'  # their weights were missing: see the note
    flops = ('' if row['flops_exact'] else '>= ') + human(row['flops'])
    fps_1 = f"{row['fps_1']:.2f}" if 'fps_1' in row else '-'
    fps_n = f"{row['fps_n']:.2f}" if 'fps_n' in row else '-'
    return (f"| `{row['config']}` | {row['shape'][0]}x{row['shape'][1]} | {params} | {flops} "
            f'| {fps_1} | {fps_n} |')


def format_table(rows: List[dict], batch_size: int, device: str, mode: str) -> str:
    threads = torch.get_num_threads() if device == 'cpu' else None
    where = (f'CPU, {threads} thread(s)' if threads else
             torch.cuda.get_device_name(0) if torch.cuda.is_available() else device)
    lines = [f'Measured with `tools/analysis_tools/benchmark.py` (mode `{mode}`, {where}, '
             f'torch {torch.__version__}).', '', HEADER.format(n=batch_size)]
    lines += [format_row(row) for row in rows]
    return '\n'.join(lines)


def find_configs(root: str) -> List[str]:
    """Every runnable config under ``root`` (``_base_`` folders excluded), sorted."""
    found = glob.glob(osp.join(root, '**', '*.py'), recursive=True)
    return sorted(p for p in found if '_base_' not in p.split(os.sep))


def update_doc(doc: str, table: str) -> None:
    """Replace the text between the benchmark-table markers of ``doc`` by ``table``."""
    from salbox.utils.errors import SalboxError
    with open(doc, encoding='utf-8') as f:
        text = f.read()
    if TABLE_START not in text or TABLE_END not in text:
        raise SalboxError(f'{doc} has no {TABLE_START} ... {TABLE_END} markers to replace')
    head, rest = text.split(TABLE_START, 1)
    tail = rest.split(TABLE_END, 1)[1]
    with open(doc, 'w', encoding='utf-8') as f:
        f.write(f'{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}')


# ----------------------------------------------------------------------------- command line
def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction
    parser.add_argument('--shape', type=int, nargs='+', default=[300, 300],
                        help='input height and width (one value: square); default 300 300')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config settings, e.g. model.head.channels=64')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Parameters, FLOPs and images/s of a config (Markdown table)')
    parser.add_argument('config', nargs='?', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='optional checkpoint to load')
    add_common_arguments(parser)
    parser.add_argument('--batch-size', type=int, default=4, help='the second speed column')
    parser.add_argument('--mode', choices=['tensor', 'predict'], default='tensor',
                        help='time the network (tensor) or the full prediction (predict)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations first')
    parser.add_argument('--iters', type=int, default=5, help='timed iterations per repeat')
    parser.add_argument('--repeat', type=int, default=1, help='repeats (median reported)')
    parser.add_argument('--flops-only', action='store_true', help='skip the speed columns')
    parser.add_argument('--all-configs', metavar='DIR',
                        help='benchmark every config under DIR (e.g. configs) instead')
    parser.add_argument('--exclude', nargs='+', default=[],
                        help='with --all-configs: skip configs whose path contains any of these')
    parser.add_argument('--out-json', metavar='FILE', help='also write the raw numbers as JSON')
    parser.add_argument('--update-doc', metavar='MD',
                        help='write the table between the benchmark-table markers of MD')
    args = parser.parse_args(argv)
    if (args.config is None) == (args.all_configs is None):
        parser.error('give a CONFIG or --all-configs DIR (not both)')
    if len(args.shape) == 1:
        args.shape = args.shape * 2
    if len(args.shape) != 2:
        parser.error('--shape takes H W (or one value for a square)')
    return args


def main(argv=None):
    args = parse_args(argv)
    configs = ([args.config] if args.config else
               [c for c in find_configs(args.all_configs)
                if not any(part in c for part in args.exclude)])
    rows = []
    for config in configs:
        print(f'benchmarking {config} ...', file=sys.stderr, flush=True)
        try:
            row = benchmark_config(config, args.checkpoint, args.shape, args.batch_size,
                                   args.device, args.mode, args.warmup, args.iters,
                                   args.repeat, args.flops_only, args.cfg_options)
        except Exception as err:
            if args.config:  # a single config: let run_friendly report it
                raise
            row = dict(config=relative_config(config), shape=tuple(args.shape),
                       error=f'{type(err).__name__}: {str(err).splitlines()[0][:100]}')
        rows.append(row)
    table = format_table(rows, args.batch_size, args.device, args.mode)
    print(table)
    if args.out_json:
        import json
        with open(args.out_json, 'w', encoding='utf-8') as f:
            json.dump(rows, f, indent=2)
    if args.update_doc:
        update_doc(args.update_doc, table)
        print(f'updated {args.update_doc}', file=sys.stderr)
    return rows


if __name__ == '__main__':
    from salbox.apis.runner_utils import run_friendly
    run_friendly(main)
