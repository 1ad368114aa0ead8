"""FLOPs and parameters of a config's model (the short form of ``benchmark.py``).

    python tools/analysis_tools/get_flops.py configs/r3net/r3net_resnext101_msra10k.py \\
        --shape 300 300

Counts the network forward for one image of ``--shape`` with mmengine's
``get_model_complexity_info`` (one multiply-add = one FLOP, as MMSegmentation's ``get_flops.py``);
post-processors (DenseCRF) are not counted. ``--table`` adds mmengine's per-module table.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import benchmark  # noqa: E402  (also puts the repository on sys.path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='FLOPs and parameters of a config')
    parser.add_argument('config', help='config file')
    benchmark.add_common_arguments(parser)
    parser.add_argument('--table', action='store_true',
                        help="also print mmengine's per-module complexity table")
    args = parser.parse_args(argv)
    if len(args.shape) == 1:
        args.shape = args.shape * 2
    if len(args.shape) != 2:
        parser.error('--shape takes H W (or one value for a square)')
    return args


def main(argv=None):
    args = parse_args(argv)
    model = benchmark.build_model(args.config, None, args.device, args.cfg_options)
    total, trainable = benchmark.count_parameters(model)
    flops, exact = benchmark.count_flops(model, args.shape, args.device)
    h, w = args.shape
    line = '=' * 40
    print(f'{line}\nConfig: {benchmark.relative_config(args.config)}\n'
          f'Input shape: (3, {h}, {w})\n'
          f"Flops: {'' if exact else '>= '}{benchmark.human(flops)} ({flops:,})\n"
          f'Params: {benchmark.human(total)} ({total:,}; trainable {trainable:,})\n{line}')
    if not exact:
        print('The JIT counter could not trace this model: only Conv2d/Linear layers are counted.')
    if args.table and exact:
        print(benchmark.complexity_info(model, args.shape, args.device, True)['out_table'])
    return dict(flops=flops, params=total, exact=exact)


if __name__ == '__main__':
    from salbox.apis.runner_utils import run_friendly
    run_friendly(main)
