"""Saliency maps and cut-outs for a folder of photos.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir DIR] [--cutout] [--threshold T] [--tta]

INPUT is an image file or a folder (searched recursively; the output folder is never scanned).
For each image ``name.ext`` it writes ``DIR/maps/name.png`` (8-bit saliency) and, with
``--cutout``, ``DIR/cutouts/name.png`` (RGBA: the photo with the saliency map as alpha, or a
hard mask with ``--threshold``). When several images share a stem (``dup.jpg``, ``dup.png``)
each is named with its extension (``dup.jpg.png``, ``dup.png.png``). Every file is written
atomically and checked. Images already done are skipped (``--overwrite`` redoes them), so an
interrupted run resumes. Each photo is decoded once by the config's test pipeline (EXIF
orientation applied); the map and the cut-out both use that decoded image
(``sample.ori_img``). ``--tta`` uses the config's ``tta_model`` / ``tta_pipeline``.

An image that cannot be used (unreadable, damaged, a broken link, too large, a failed write)
is skipped with its reason; the run goes on, lists every such image at the end (also in
``DIR/failed.txt``) and exits with code 1.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from salbox.apis import inference_model, init_model  # noqa: E402
from salbox.apis.batch_inference import failure_reason, report_failures  # noqa: E402
from salbox.apis.runner_utils import (check_device, check_writable_dir,  # noqa: E402
                                      run_friendly)
from salbox.structures import original_image  # noqa: E402
from salbox.evaluation import write_map  # noqa: E402
from salbox.apis.matting import compose  # noqa: E402
from salbox.utils.atomic_file import atomic_write_image  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402
from salbox.utils.image_io import IMAGE_SUFFIXES  # noqa: E402


def list_images(path: str, exclude=()) -> list:
    """Image files under ``path`` (sorted; symbolic links to files included, so a broken one
    is reported rather than ignored), leaving out the folders in ``exclude``."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise SalboxError(f'input not found: {path}')
    skip = {osp.realpath(folder) for folder in exclude}
    found = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if osp.realpath(osp.join(root, d)) not in skip)
        found.extend(osp.join(root, name) for name in names
                     if name.lower().endswith(IMAGE_SUFFIXES))
    if not found:
        raise SalboxError(f'no images ({", ".join(IMAGE_SUFFIXES)}) found in {path}')
    return sorted(found)


def output_names(images: list, root: str) -> dict:
    """``{image: output name}``: the path relative to ``root`` with ``.png`` for the
    extension, or with ``.png`` appended when another image has the same stem."""
    by_stem = {}
    for path in images:
        by_stem.setdefault(osp.splitext(osp.relpath(path, root))[0] + '.png', []).append(path)
    names = {}
    for name, paths in by_stem.items():
        for path in paths:
            names[path] = name if len(paths) == 1 else osp.relpath(path, root) + '.png'
    used = {}
    for path, name in names.items():  # 'a.png.jpg' next to 'a.png' and 'a.jpg': number them
        if name in used:
            stem = name[:-len('.png')]
            index = 1
            while f'{stem}.{index}.png' in used or f'{stem}.{index}.png' in names.values():
                index += 1
            names[path] = name = f'{stem}.{index}.png'
        used[name] = path
    return names


def threshold(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f'{text} is not in [0, 1] (maps are in [0, 1])')
    return value


def cutout(image_bgr: np.ndarray, sal_map: np.ndarray, threshold=None) -> np.ndarray:
    """BGRA image whose alpha is the saliency map (or its binarisation at ``threshold``)."""
    alpha = sal_map if threshold is None else (sal_map >= threshold).astype(np.float32)
    return compose(image_bgr[..., ::-1], alpha)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Predict saliency maps (and cut-outs)')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint file, or pip://NAME for weights a pip '
                        'package ships (pip://u2netp, pip://u2net; configs/u2net/README.md)')
    parser.add_argument('input', help='an image or a folder of images (searched recursively, '
                        'without the output folder)')
    parser.add_argument('--out-dir', default='outputs',
                        help='where maps/ and cutouts/ go; outputs are named like the input '
                        '(name.png), or with its extension (name.jpg.png) when several inputs '
                        'share a stem')
    parser.add_argument('--cutout', action='store_true', help='also write RGBA cut-outs')
    parser.add_argument('--threshold', type=threshold, default=None,
                        help='hard cut-out: alpha = map >= T (default: soft alpha)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation: the config\'s tta_model and tta_pipeline')
    parser.add_argument('--overwrite', action='store_true', help='redo images already done')
    parser.add_argument('--strict', choices=['on', 'off'], default='on',
                        help='on (default): refuse a checkpoint whose keys or shapes do not fit '
                        "the config's model; off: load it anyway with a warning")
    return parser.parse_args(argv)


def already_done(args, rel):
    """An image is done when its map (and with ``--cutout`` its cut-out) is a complete PNG: a
    file cut short by a killed run is redone, not kept (salbox.engine.atomic_io)."""
    from salbox.engine.atomic_io import png_is_complete
    outputs = ['maps'] + (['cutouts'] if args.cutout else [])
    return all(png_is_complete(osp.join(args.out_dir, kind, rel)) for kind in outputs)


def process(model, args, path: str, rel: str) -> None:
    """Predict one image and write its map (and cut-out); raises on any failure."""
    sample = inference_model(model, path)
    if 'sal_logits' in sample:
        del sample.sal_logits  # not written: free 4 bytes per pixel before the outputs
    sal_map = sample.pred_sal_map.data[0].cpu().numpy()
    write_map(osp.join(args.out_dir, 'maps', rel), sal_map)  # as tools/test.py --out
    if args.cutout:
        # the image decoded once by the pipeline (EXIF applied), aligned with the map
        image = original_image(sample).permute(1, 2, 0).cpu().numpy()[:, :, ::-1]
        atomic_write_image(osp.join(args.out_dir, 'cutouts', rel),
                           cutout(image, sal_map, args.threshold))


def main(argv=None):
    args = parse_args(argv)
    for name in ('config', 'checkpoint', 'input', 'out_dir'):
        setattr(args, name, osp.expanduser(getattr(args, name)))
    check_device(args.device)
    root = args.input if osp.isdir(args.input) else osp.dirname(args.input)
    out = args.out_dir
    images = list_images(args.input, exclude=[out, osp.join(out, 'maps'),
                                              osp.join(out, 'cutouts')])
    names = output_names(images, root)
    model = init_model(args.config, args.checkpoint, device=args.device, tta=args.tta,
                       strict=args.strict == 'on')
    check_writable_dir(out, '--out-dir')
    debug = os.environ.get('SALBOX_DEBUG', '0') == '1'
    failures, written, kept = [], 0, 0
    for path in tqdm(images, desc='saliency', unit='img'):
        rel = names[path]
        if not args.overwrite and already_done(args, rel):
            kept += 1
            continue
        try:
            process(model, args, path, rel)
            written += 1
        except KeyboardInterrupt:
            raise
        except Exception as err:  # one bad image never stops the run: listed at the end
            if debug:
                raise
            failures.append((path, failure_reason(path, err)))
    print(f'{written + kept} of {len(images)} images have their outputs in {out} '
          f'({written} written now, {kept} already there)')
    if failures:
        report_failures(failures, out)
        sys.exit(1)


if __name__ == '__main__':
    run_friendly(main)
