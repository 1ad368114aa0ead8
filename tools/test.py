"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--out DIR] [--show-dir DIR]``.

Prints one metrics table with a row per test set, writes it as CSV/JSON/Markdown under the
work dir, and with ``--out DIR`` writes every saliency map as an 8-bit PNG named like its image
(``DIR/<dataset>/<stem>.png``). Arguments follow MMSegmentation's ``tools/test.py``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from salbox.apis.runner_utils import (add_runner_arguments, build_runner, load_config,  # noqa: E402
                                      parse_runner_arguments, run_friendly, set_test_outputs)
from salbox.apis.tta import use_tta  # noqa: E402
from salbox.utils import mmengine_compat  # noqa: E402
from salbox.utils.checkpoint_match import load_checked_state_dict  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a saliency detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint',
                        help='checkpoint file, or pip://NAME for weights a pip package ships '
                             '(pip://u2netp, pip://u2net; configs/u2net/README.md)')
    parser.add_argument('--work-dir', help='where logs and the metrics tables are written')
    parser.add_argument('--out', help='directory to write the predicted maps (8-bit PNGs)')
    parser.add_argument('--show-dir', help='directory to write image | GT | prediction panels')
    parser.add_argument('--show', action='store_true',
                        help='(kept for MMSeg compatibility) same as --show-dir under work dir')
    parser.add_argument('--resume', action='store_true',
                        help='with --out: reuse the maps already written there instead of '
                        'predicting those images again (after a crash)')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation: the config\'s tta_model and tta_pipeline')
    parser.add_argument('--strict', choices=['on', 'off'], default='on',
                        help='on (default): refuse a checkpoint whose keys or shapes do not fit '
                        "the config's model; off: load it anyway with a warning")
    add_runner_arguments(parser)
    return parse_runner_arguments(parser, argv)


def reuse_written_maps(cfg, args):
    """``--resume``: run the test with salbox's ``ResumeMapsTestLoop``, which reads back the
    complete maps already in ``--out`` instead of predicting those images again."""
    from salbox.utils.errors import SalboxError
    if not args.resume:
        return
    if not args.out:
        raise SalboxError('--resume reuses the maps of an earlier --out DIR run: give --out DIR')
    import salbox.engine  # noqa: F401  (registers ResumeMapsTestLoop)
    test_cfg = dict(cfg.get('test_cfg') or {})
    cfg.test_cfg = dict(type='ResumeMapsTestLoop', out_dir=args.out,
                        fp16=test_cfg.get('fp16', False))


def main(argv=None):
    args = parse_args(argv)
    mmengine_compat.enable()  # safe checkpoint loading in mmengine (resume, load_from)
    for name in ('checkpoint', 'out', 'show_dir'):
        if getattr(args, name):
            setattr(args, name, osp.expanduser(getattr(args, name)))
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    if not args.checkpoint.startswith('pip://') and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg.load_from = args.checkpoint
    if args.tta:
        use_tta(cfg)
    show_dir = args.show_dir
    if args.show and not show_dir:
        show_dir = osp.join(cfg.work_dir, 'show')
    set_test_outputs(cfg, out_dir=args.out, show_dir=show_dir,
                     method_name=osp.splitext(osp.basename(args.config))[0])
    reuse_written_maps(cfg, args)
    runner = build_runner(cfg)
    # a file (hash verified) or pip://NAME (converted on load, configs/u2net/README.md)
    load_checked_state_dict(runner.model, args.checkpoint, strict=args.strict == 'on')
    return runner.test()


if __name__ == '__main__':
    run_friendly(main)
