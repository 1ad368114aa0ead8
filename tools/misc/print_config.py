"""Print the full config after inheritance and ``--cfg-options`` (MMSeg's ``print_config.py``).

    python tools/misc/print_config.py configs/r3net/r3net_resnet18_synthetic.py \\
        --cfg-options train_cfg.max_iters=100 model.head.channels=64
    python tools/misc/print_config.py CONFIG --save-path work_dirs/full_config.py
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

from salbox.apis.runner_utils import load_config, run_friendly  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument('--save-path', help='also write the merged config here (.py/.json/.yaml)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')
    if args.save_path:
        if not args.save_path.endswith(('.py', '.json', '.yaml', '.yml')):
            raise SalboxError(f'--save-path must end in .py, .json or .yaml: {args.save_path}')
        cfg.dump(args.save_path)
        print(f'saved the config to {args.save_path}')


if __name__ == '__main__':
    run_friendly(main)
