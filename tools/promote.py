"""Promote a folder of another method's saliency maps with the MI promoter (LDPS).

    python tools/promote.py CONFIG --images IMG_DIR --priors MAP_DIR --out OUT_DIR \\
        [--checkpoint CKPT | --fit-iters N] [--online] [--stems FILE] [--precision bf16]

Writes ``OUT_DIR/<stem>.png`` for every image that has a prior map ``MAP_DIR/<stem>.png``.
Without ``--checkpoint`` the promoter is first fitted, label-free, on these same images and
priors (the paper's protocol: Chen et al., AAAI 2020, Sec. 5.3 trains on the DUTS-TE images'
PiCANet priors without their ground truth) and saved to ``--save-checkpoint`` (default
``OUT_DIR/promoter.pth``). The fit is mmengine's Runner, as ``tools/train.py`` runs it, on the
config's ``train_pipeline``, ``optim_wrapper``, ``param_scheduler``, ``train_cfg`` and
``randomness`` with the training set replaced by these folders
(``salbox/apis/promoter_fit.py``); its logs and checkpoints go to ``--work-dir`` (default
``OUT_DIR/promoter_fit``), and ``--resume`` continues an interrupted fit there. ``--online``
instead fits a fresh relation head to every image (Sec. 5.4; the config's ``online_cfg``:
10 iterations at lr 0.2). No ground-truth file is ever opened.

Every image and prior is checked before any work: missing priors, priors of another size and
unreadable files are listed by name, and the run stops (exit code 2) unless ``--skip-missing``
(promote the complete pairs) or ``--resize-priors`` (resize priors to their image, as the
official loader does) is given. Maps without any pixel >= theta_fg keep their prior; they are
counted and named in a warning at the end.
"""
import argparse
import inspect
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402
from mmengine.runner import set_random_seed  # noqa: E402
from tqdm import tqdm  # noqa: E402

from salbox.apis.promoter_fit import label_free_fit_config  # noqa: E402
from salbox.apis.runner_utils import (build_runner, check_device,  # noqa: E402
                                      check_pretrained_weights, check_writable_dir,
                                      find_resume_checkpoint, load_config, run_friendly)
from salbox.datasets.prior_dataset import pair_images_and_priors, read_pair  # noqa: E402
from salbox.evaluation import write_map  # noqa: E402
from salbox.models.promoters import (build_promoter, inference_copy, load_promoter,  # noqa
                                     promote_online, save_promoter)
from salbox.models.promoters.fitting import PRECISIONS  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402

MAX_LISTED = 20
ONLINE_KEYS = ('iters', 'lr', 'momentum')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='an MI promoter config (configs/mi_promoter/*.py)')
    parser.add_argument('--images', required=True, help='folder of images')
    parser.add_argument('--priors', required=True, help='folder of prior maps (<stem>.png)')
    parser.add_argument('--out', required=True, help='folder for the promoted maps')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--checkpoint', help='a fitted promoter (skips fitting)')
    group.add_argument('--fit-iters', type=int,
                       help='label-free fitting iterations (default: the config\'s fit_iters)')
    parser.add_argument('--online', action='store_true',
                        help='fit a fresh relation head to each image instead (paper Sec. 5.4)')
    parser.add_argument('--save-checkpoint', help='where the fitted promoter goes '
                        '(default: OUT/promoter.pth)')
    parser.add_argument('--work-dir', help='the fit\'s logs and checkpoints '
                        '(default: OUT/promoter_fit)')
    parser.add_argument('--resume', action='store_true',
                        help='continue an interrupted fit from the latest checkpoint of '
                             '--work-dir')
    parser.add_argument('--stems', help='text file of the stems to use (default: all images)')
    parser.add_argument('--prior-suffix', default='.png')
    parser.add_argument('--skip-missing', action='store_true',
                        help='promote the complete pairs when some priors are missing/mismatched')
    parser.add_argument('--resize-priors', action='store_true',
                        help='resize priors whose size differs from their image')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp32',
                        help='network precision for promotion: bf16 runs several times faster '
                             'on CPUs with bfloat16 units (AVX512-BF16 / AMX); fitting and '
                             '--online are always float32')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config keys, e.g. model.input_size="(128,128)"')
    return parser.parse_args(argv)


def _report(problems: dict) -> str:
    lines = []
    for kind, names in problems.items():
        shown = names[:MAX_LISTED]
        more = f' ... and {len(names) - MAX_LISTED} more' if len(names) > MAX_LISTED else ''
        lines.append(f'{len(names)} {kind}: ' + ', '.join(shown) + more)
    return '\n  '.join(lines)


def collect_pairs(args):
    stems = None
    if args.stems:
        if not osp.isfile(args.stems):
            raise SalboxError(f'stems file not found: {args.stems}')
        with open(args.stems, encoding='utf-8') as f:
            stems = [osp.splitext(osp.basename(line.strip()))[0] for line in f if line.strip()]
    pairs, problems = pair_images_and_priors(args.images, args.priors,
                                             prior_suffix=args.prior_suffix, stems=stems,
                                             check_sizes=not args.resize_priors)
    if stems is None:  # maps without an image are harmless extras
        problems.pop('missing image', None)
    if problems:
        message = 'problems with the inputs:\n  ' + _report(problems)
        if not args.skip_missing or not pairs:
            print(message + '\n(--skip-missing promotes the complete pairs, --resize-priors '
                  'resizes priors to their image)', file=sys.stderr)
            sys.exit(2)
        print(message + f'\ncontinuing with the {len(pairs)} complete pairs', file=sys.stderr)
    if not pairs:
        raise SalboxError(f'no image of {args.images} has a prior in {args.priors}')
    return pairs


def online_settings(cfg) -> dict:
    """The config's ``online_cfg`` (``iters``, ``lr``, ``momentum``; defaults: those of
    :func:`promote_online`, the paper's Sec. 5.4 values) and the seed (``randomness.seed``)."""
    online = dict(cfg.get('online_cfg') or {})
    unknown = sorted(set(online) - set(ONLINE_KEYS))
    if unknown:
        raise SalboxError(f'{cfg.filename}: online_cfg has unknown keys {unknown}; '
                          f'it takes {list(ONLINE_KEYS)}')
    defaults = inspect.signature(promote_online).parameters
    settings = {k: online.get(k, defaults[k].default) for k in ONLINE_KEYS}
    settings['seed'] = int((cfg.get('randomness') or {}).get('seed') or 0)
    return settings


def fit(cfg, args, model_cfg: dict):
    """Fit the promoter label-free with mmengine's Runner and save it (a plain checkpoint that
    ``--checkpoint`` and ``MIPromoter`` load)."""
    fit_cfg = label_free_fit_config(
        cfg, args.images, args.priors, stems_file=args.stems, prior_suffix=args.prior_suffix,
        resize_priors=args.resize_priors, skip_missing=args.skip_missing,
        max_iters=args.fit_iters)
    fit_cfg.work_dir = args.work_dir or osp.join(args.out, 'promoter_fit')
    if args.resume:
        fit_cfg.resume = True
        fit_cfg.load_from = find_resume_checkpoint(fit_cfg.work_dir)
    else:
        check_pretrained_weights(fit_cfg)
    iters = fit_cfg.train_cfg.max_iters
    print(f'fitting the promoter label-free: {iters} iterations (logs and checkpoints: '
          f'{fit_cfg.work_dir})')
    start = time.time()
    runner = build_runner(fit_cfg)
    runner.train()
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    ckpt = args.save_checkpoint or osp.join(args.out, 'promoter.pth')
    save_promoter(model, ckpt, model_cfg,
                  meta=dict(fit_iters=iters, fit_seconds=round(time.time() - start, 1),
                            images=args.images, priors=args.priors))
    print(f'fitted in {time.time() - start:.0f} s; checkpoint: {ckpt}')
    return model


def main(argv=None):
    args = parse_args(argv)
    for name in ('images', 'priors', 'out', 'checkpoint', 'save_checkpoint', 'stems',
                 'work_dir'):
        if getattr(args, name):
            setattr(args, name, osp.expanduser(getattr(args, name)))
    check_device(args.device)
    cfg = load_config(args.config, args.cfg_options)
    online = online_settings(cfg)
    pairs = collect_pairs(args)
    check_writable_dir(args.out, '--out')
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model)
    model_cfg.pop('first_stage', None)  # the priors are given

    if args.checkpoint:
        model = load_promoter(args.checkpoint, None)
    elif args.online:
        # Seed before the model is built: its initial weights come from torch's generator.
        set_random_seed(online['seed'])
        model = build_promoter(model_cfg, init_weights=True)
    else:
        model = fit(cfg, args, model_cfg)
    model = model.to(args.device).eval()
    if not args.online:  # BN folded (running statistics); optionally bfloat16
        fast_model = inference_copy(model, args.precision)
    no_anchor = []
    for i in tqdm(range(len(pairs)), desc='promote', unit='img'):
        stem, img_path, prior_path = pairs[i]
        image, prior = read_pair(img_path, prior_path, resize_prior=args.resize_priors)
        if args.online:
            with torch.enable_grad():
                out, has_anchor = promote_online(model, image, prior, **online)
        else:
            out, has_anchor = fast_model.promote(image, prior)
        if not has_anchor:
            no_anchor.append(stem)
            out = prior
        write_map(osp.join(args.out, stem + '.png'), out[0].cpu().numpy())
    print(f'{len(pairs)} promoted maps written to {args.out}')
    if no_anchor:
        print(f'warning: {len(no_anchor)} map(s) have no pixel >= theta_fg={model.theta_fg} and '
              'were kept as they are: ' + ', '.join(no_anchor[:MAX_LISTED])
              + (' ...' if len(no_anchor) > MAX_LISTED else ''), file=sys.stderr)


if __name__ == '__main__':
    run_friendly(main)
