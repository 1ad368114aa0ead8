"""Train a salbox model: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]``.

Arguments follow MMSegmentation's ``tools/train.py``. The Runner does the work; this script
only merges command-line options into the config.
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from salbox.apis.runner_utils import (add_runner_arguments, build_runner,  # noqa: E402
                                      check_pretrained_weights, check_train_data,
                                      find_resume_checkpoint, load_config,
                                      parse_runner_arguments, run_friendly)
from salbox.utils import mmengine_compat  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a saliency detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume training: from CHECKPOINT if given, else from the latest checkpoint '
        'in the work dir')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic mixed precision training (GPU; mmengine\'s '
                        'AmpOptimWrapper)')
    parser.add_argument('--amp-dtype', choices=('float16', 'bfloat16'), default=None,
                        help='autocast dtype of --amp (implies --amp); default float16, '
                        'bfloat16 on GPUs that have it (Ampere and later) needs no loss scaling')
    parser.add_argument('--sync-bn', action='store_true', default=False,
                        help='distributed runs: convert every BatchNorm to torch SyncBatchNorm '
                        '(cfg sync_bn=\'torch\'; needs GPUs, see docs/distributed.md)')
    parser.add_argument('--diff-rank-seed', action='store_true', default=False,
                        help='seed each rank with seed + rank (randomness.diff_rank_seed)')
    add_runner_arguments(parser)
    return parse_runner_arguments(parser, argv)


def set_amp(cfg, dtype=None):
    """``--amp`` / ``--amp-dtype``: mmengine's ``AmpOptimWrapper`` (autocast + loss scaling)."""
    if not torch.cuda.is_available():
        raise SalboxError('--amp needs a GPU: mmengine\'s AmpOptimWrapper trains only on '
                          'CUDA/NPU/MLU/MUSA devices, and torch sees no CUDA device here')
    optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_type == 'AmpOptimWrapper':
        print('AMP is already enabled in the config.')
    else:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if dtype is not None:
        cfg.optim_wrapper.dtype = dtype


def set_distributed_options(cfg, args):
    """``--sync-bn`` and ``--diff-rank-seed`` into the config (docs/distributed.md)."""
    if args.sync_bn:  # converted by Runner.wrap_model in distributed runs
        cfg.sync_bn = 'torch'
    if args.diff_rank_seed:
        randomness = cfg.get('randomness') or {}
        randomness['diff_rank_seed'] = True
        cfg.randomness = randomness


def main(argv=None):
    args = parse_args(argv)
    mmengine_compat.enable()  # safe checkpoint loading in mmengine (resume, load_from)
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    if args.amp or args.amp_dtype:
        set_amp(cfg, args.amp_dtype)
    set_distributed_options(cfg, args)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    check_train_data(cfg)
    if not cfg.resume:
        check_pretrained_weights(cfg)
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    run_friendly(main)
