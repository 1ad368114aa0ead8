"""Images/s of R3Net on EfficientNet-Lite0 against R3Net on ResNeXt-101, CPU inference.

Every model is built from its config (weights are irrelevant to speed and are not loaded;
post-processors off): the reference ``r3net_resnext101_msra10k.py`` and the Lite0 configs
``r3net_efficientnet-lite0_msra10k.py`` (paper widths 256/128) and
``r3net_efficientnet-lite0_pascal-s.py`` (96/48). Forward of the logits at ``--size`` (default
320x320), batch 1, after ``--warmup`` runs; the models are timed in interleaved rounds so a load
change on a shared machine hits all of them alike, and each reports its median. The ratio to
the reference is the number to compare across machines.

    python benchmarks/bench_r3net_lite.py [--size 320] [--rounds 7] [--warmup 2]
"""
import argparse
import os.path as osp
import statistics
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from salbox.registry import MODELS  # noqa: E402

REFERENCE = 'r3net_resnext101_msra10k.py'
CONFIGS = [REFERENCE, 'r3net_efficientnet-lite0_msra10k.py',
           'r3net_efficientnet-lite0_pascal-s.py']


def build(config_name: str) -> torch.nn.Module:
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'r3net', config_name)).model
    cfg.backbone.pop('init_cfg', None)
    cfg.postprocessors = []
    return MODELS.build(cfg).eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=320)
    parser.add_argument('--rounds', type=int, default=7, help='timed runs per model')
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs per model')
    args = parser.parse_args()
    init_default_scope('salbox')
    torch.manual_seed(0)
    models = {name: build(name) for name in CONFIGS}
    x = torch.randn(1, 3, args.size, args.size)
    times = {name: [] for name in CONFIGS}
    with torch.no_grad():
        for model in models.values():
            for _ in range(args.warmup):
                model(x, mode='tensor')
        for _ in range(args.rounds):
            for name, model in models.items():
                start = time.perf_counter()
                model(x, mode='tensor')
                times[name].append(time.perf_counter() - start)

    reference = statistics.median(times[REFERENCE])
    print(f'R3Net inference, batch 1, {args.size}x{args.size}, {torch.get_num_threads()} threads, '
          f'median of {args.rounds} interleaved runs after {args.warmup} warm-up runs')
    print(f'{"config":42s} {"params":>12s} {"ms":>9s} {"images/s":>9s} {"x ResNeXt-101":>14s}')
    for name, model in models.items():
        seconds = statistics.median(times[name])
        params = sum(p.numel() for p in model.parameters())
        print(f'{name:42s} {params:12,d} {seconds * 1000:9.1f} {1 / seconds:9.2f} '
              f'{reference / seconds:14.2f}')


if __name__ == '__main__':
    main()
