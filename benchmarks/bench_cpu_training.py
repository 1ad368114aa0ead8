"""CPU training speed of one recipe in float32, bfloat16 autocast and channels-last, one run.

Builds the config's model (with its ImageNet weights) and optimiser, takes ``--iters`` batches of
the config's real training pipeline once (fixed seed, so every mode sees the same batches in the
same order), and trains a fresh copy of the same initial model on them in each mode:

- ``float32``: as the recipe trains today;
- ``bf16``: the forward under ``torch.autocast('cpu', torch.bfloat16)``, as
  ``AutocastOptimWrapper`` runs it on a CPU with bfloat16 units (``salbox/engine/optim.py``);
- ``channels_last``: float32 with model and inputs in ``torch.channels_last``;
- ``channels_last_bf16``: both.

It prints the median seconds per iteration of each mode (after ``--warmup`` iterations), the
ratio to float32, and whether the loss curves agree: the largest relative difference of each
mode's loss from float32's at the same iteration. Set ``OMP_NUM_THREADS`` to the threads the
recipe trains with (1 on a shared machine).

    OMP_NUM_THREADS=1 python benchmarks/bench_cpu_training.py \
        configs/r3net/r3net_efficientnet-lite2_duts-tr_structure-320.py --iters 30
"""
import argparse
import copy
import json
import os.path as osp
import statistics
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from salbox.registry import DATASETS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS  # noqa: E402
from salbox.utils.cpu_features import bf16_units  # noqa: E402

MODES = ('float32', 'bf16', 'channels_last', 'channels_last_bf16')


def fixed_batches(cfg, iters: int, seed: int):
    """``iters`` collated batches of the config's training pipeline, drawn once."""
    loader_cfg = cfg.train_dataloader
    dataset = DATASETS.build(loader_cfg.dataset)
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(dataset), generator=gen).tolist()
    bs = loader_cfg.batch_size
    torch.manual_seed(seed)
    return [pseudo_collate([dataset[order[(i * bs + j) % len(dataset)]] for j in range(bs)])
            for i in range(iters)]


def train_mode(model0, cfg, batches, mode: str, warmup: int):
    model = copy.deepcopy(model0).train()
    bf16 = mode.endswith('bf16')
    channels_last = mode.startswith('channels_last')
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    optim_cfg['type'] = 'OptimWrapper'  # the autocast is applied here, explicitly
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=optim_cfg.pop('constructor', 'DefaultOptimWrapperConstructor'),
        optim_wrapper_cfg=optim_cfg, paramwise_cfg=optim_cfg.pop('paramwise_cfg', None)))
    wrapper = constructor(model)
    times, losses = [], []
    for batch in batches:
        start = time.perf_counter()
        data = model.data_preprocessor(batch, True)
        inputs = data['inputs']
        if channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            loss_dict = model(inputs, data['data_samples'], mode='loss')
        loss, _ = model.parse_losses(loss_dict)
        wrapper.update_params(loss)
        times.append(time.perf_counter() - start)
        losses.append(float(loss.detach()))
    return statistics.median(times[warmup:]), losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--modes', nargs='+', default=list(MODES), choices=MODES)
    parser.add_argument('--out', help='also write the results as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, as tools/train.py')
    args = parser.parse_args()
    if args.iters <= args.warmup:
        parser.error('--iters must exceed --warmup')
    init_default_scope('salbox')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    batches = fixed_batches(cfg, args.iters, args.seed)
    torch.manual_seed(args.seed)
    model0 = MODELS.build(cfg.model)
    model0.init_weights()
    print(f'{args.config}: batch {cfg.train_dataloader.batch_size}, {args.iters} iterations per '
          f'mode, torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU bfloat16 '
          f'units: {bf16_units()}', flush=True)
    results = {}
    for mode in args.modes:
        torch.manual_seed(args.seed)
        sec, losses = train_mode(model0, cfg, batches, mode, args.warmup)
        results[mode] = dict(s_per_iter=sec, losses=losses)
        print(f'{mode:20s} {sec:.3f} s/iter  loss {losses[0]:.4f} -> {losses[-1]:.4f}',
              flush=True)
    base = results.get('float32')
    print('\n| mode | s/iteration | vs float32 | max rel. loss diff vs float32 | '
          'loss first -> last |')
    print('| --- | ---: | ---: | ---: | --- |')
    for mode, r in results.items():
        ratio = f'{r["s_per_iter"] / base["s_per_iter"]:.2f}x' if base else '-'
        diff = (max(abs(a - b) / abs(b) for a, b in zip(r['losses'], base['losses']))
                if base else float('nan'))
        r['max_rel_loss_diff'] = diff
        print(f'| {mode} | {r["s_per_iter"]:.3f} | {ratio} | {diff:.3f} | '
              f'{r["losses"][0]:.3f} -> {r["losses"][-1]:.3f} |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
