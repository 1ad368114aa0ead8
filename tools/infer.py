"""Saliency maps and cut-outs for a folder of photos.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir DIR] [--cutout] [--threshold T] [--tta]

INPUT is an image file or a folder (searched recursively). For each image ``name.ext`` it
writes ``DIR/maps/name.png`` (8-bit saliency) and, with ``--cutout``, ``DIR/cutouts/name.png``
(RGBA: the photo with the saliency map as alpha, or a hard mask with ``--threshold``).
Images already done are skipped (``--overwrite`` redoes them), so an interrupted run resumes.
Each photo is decoded once by the config's test pipeline (EXIF orientation applied); the map and
the cut-out both use that decoded image (``sample.ori_img``). ``--tta`` uses the config's
``tta_model`` / ``tta_pipeline``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from salbox.apis import inference_model, init_model  # noqa: E402
from salbox.apis.runner_utils import run_friendly  # noqa: E402
from salbox.structures import original_image  # noqa: E402
from salbox.evaluation import write_map  # noqa: E402
from salbox.evaluation.functional import to_uint8  # noqa: E402
from salbox.utils.errors import DataError, SalboxError  # noqa: E402

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def list_images(path: str) -> list:
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise SalboxError(f'input not found: {path}')
    found = sorted(
        osp.join(root, name) for root, _, names in os.walk(path) for name in names
        if name.lower().endswith(IMAGE_SUFFIXES))
    if not found:
        raise SalboxError(f'no images ({", ".join(IMAGE_SUFFIXES)}) found in {path}')
    return found


def cutout(image_bgr: np.ndarray, sal_map: np.ndarray, threshold=None) -> np.ndarray:
    """BGRA image whose alpha is the saliency map (or its binarisation at ``threshold``)."""
    alpha = sal_map if threshold is None else (sal_map >= threshold).astype(np.float32)
    return np.dstack([image_bgr, to_uint8(alpha)])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Predict saliency maps (and cut-outs)')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='an image or a folder of images')
    parser.add_argument('--out-dir', default='outputs', help='where maps/ and cutouts/ go')
    parser.add_argument('--cutout', action='store_true', help='also write RGBA cut-outs')
    parser.add_argument('--threshold', type=float, default=None,
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


def main(argv=None):
    args = parse_args(argv)
    images = list_images(args.input)
    model = init_model(args.config, args.checkpoint, device=args.device, tta=args.tta,
                       strict=args.strict == 'on')
    root = args.input if osp.isdir(args.input) else osp.dirname(args.input)
    failures = []
    for path in tqdm(images, desc='saliency', unit='img'):
        rel = osp.splitext(osp.relpath(path, root))[0] + '.png'
        map_path = osp.join(args.out_dir, 'maps', rel)
        if already_done(args, rel) and not args.overwrite:
            continue
        try:
            sample = inference_model(model, path)
        except DataError:  # unreadable image: report it, go on with the others
            failures.append(path)
            continue
        sal_map = sample.pred_sal_map.data[0].cpu().numpy()
        write_map(map_path, sal_map)  # the same 8-bit rounding as tools/test.py --out
        if args.cutout:
            # the image decoded once by the pipeline (EXIF applied), aligned with the map
            image = original_image(sample).permute(1, 2, 0).cpu().numpy()[:, :, ::-1]
            cut_path = osp.join(args.out_dir, 'cutouts', rel)
            os.makedirs(osp.dirname(cut_path), exist_ok=True)
            cv2.imwrite(cut_path, cutout(np.ascontiguousarray(image), sal_map, args.threshold))
    done = len(images) - len(failures)
    print(f'{done} of {len(images)} images written to {args.out_dir}')
    if failures:
        print('unreadable images (skipped):\n  ' + '\n  '.join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    run_friendly(main)
