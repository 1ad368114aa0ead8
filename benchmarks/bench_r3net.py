"""R3Net speed on the CPU at 300x300: forward (eval) and one training step.

Timings are relative to a reference measured in the same run, so they compare across machines:
the ResNeXt-101 32x4d backbone alone (the part every ResNeXt method pays). Prints absolute
milliseconds too, for the record.

    python benchmarks/bench_r3net.py [--size 300] [--batch 1] [--train-batch 2] [--repeats 3]
"""
import argparse
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from salbox.registry import MODELS  # noqa: E402


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', type=int, default=300)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--train-batch', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    init_default_scope('salbox')
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                                   'configs/_base_/models/r3net_resnext101.py'))
    cfg.model.backbone.pop('init_cfg', None)
    cfg.model.postprocessors = []
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    x = torch.randn(args.batch, 3, args.size, args.size)

    model.eval()
    with torch.no_grad():
        t_backbone = median_seconds(lambda: backbone(x), args.repeats)
        t_forward = median_seconds(lambda: model(x, mode='tensor'), args.repeats)

    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    xt = torch.randn(args.train_batch, 3, args.size, args.size)
    target = torch.rand(args.train_batch, 1, args.size, args.size)

    def train_step():
        outputs = model(xt, mode='tensor')
        loss = sum(model.loss_module(outputs, target).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def backbone_train_step():
        feats = backbone(xt)
        loss = feats[-1].mean()
        optimizer.zero_grad()
        loss.backward()

    t_backbone_train = median_seconds(backbone_train_step, args.repeats)
    t_train = median_seconds(train_step, args.repeats)

    params = sum(p.numel() for p in model.parameters())
    print(f'R3Net (ResNeXt-101 32x4d), {params:,} parameters, {torch.get_num_threads()} threads, '
          f'input {args.size}x{args.size}')
    print(f'{"case":40s} {"ms":>10s} {"x backbone":>12s}')
    rows = [
        (f'backbone forward, batch {args.batch}', t_backbone, t_backbone),
        (f'R3Net forward (7 maps), batch {args.batch}', t_forward, t_backbone),
        (f'backbone fwd+bwd, batch {args.train_batch}', t_backbone_train, t_backbone_train),
        (f'R3Net train step (7x BCE), batch {args.train_batch}', t_train, t_backbone_train),
    ]
    for name, seconds, reference in rows:
        print(f'{name:40s} {seconds * 1000:10.1f} {seconds / reference:12.2f}')


if __name__ == '__main__':
    main()
