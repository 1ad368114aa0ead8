"""Write trivial saliency maps for a folder of masks, to show what a model must beat.

    python tools/analysis_tools/baseline_maps.py MASK_DIR OUT_DIR [--kind centre|uniform]
    python tools/analysis_tools/baseline_maps.py MASK_DIR OUT_DIR --kind spectral_residual \
        --images IMAGE_DIR [--smooth 0.03]

``centre``: an isotropic Gaussian centre prior (std a quarter of each side), the classic
"photographers centre their subject" baseline; ``uniform``: a constant map;
``spectral_residual``: Hou & Zhang's spectral residual (CVPR 2007) on the photo of the same stem
in ``--images``, as OpenCV's contrib ``cv2.saliency.StaticSaliencySpectralResidual`` computes
it (needs ``opencv-contrib-python-headless``), min-max scaled to [0, 1]. One 8-bit PNG per
mask, same stem and size.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from salbox.apis.runner_utils import run_friendly  # noqa: E402
from salbox.evaluation import list_maps, read_map, write_map  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402


def centre_prior(height: int, width: int) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width].astype(np.float64)
    dy = (yy - (height - 1) / 2) / (height / 4)
    dx = (xx - (width - 1) / 2) / (width / 4)
    return np.exp(-0.5 * (dy ** 2 + dx ** 2)).astype(np.float32)


def spectral_residual(image_path: str, smooth: float = 0.0) -> np.ndarray:
    """OpenCV's spectral-residual saliency of a photo, optionally smoothed by a Gaussian of
    sigma ``smooth`` x the short side (Hou & Zhang, CVPR 2007, smooth their map with a
    Gaussian as well), min-max scaled to [0, 1]."""
    if not hasattr(cv2, 'saliency'):
        raise SalboxError('--kind spectral_residual needs OpenCV\'s contrib modules '
                          f'(cv2 {cv2.__version__} has no cv2.saliency): '
                          'pip install opencv-contrib-python-headless')
    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if image is None:
        raise SalboxError(f'cannot read image {image_path}')
    ok, saliency = cv2.saliency.StaticSaliencySpectralResidual_create().computeSaliency(image)
    if not ok:
        raise SalboxError(f'spectral residual failed on {image_path}')
    saliency = saliency.astype(np.float32)
    if smooth > 0:
        saliency = cv2.GaussianBlur(saliency, (0, 0), sigmaX=smooth * min(saliency.shape[:2]))
    span = float(saliency.max() - saliency.min())
    return (saliency - saliency.min()) / span if span > 0 else np.zeros_like(saliency)


def find_image(image_dir: str, stem: str) -> str:
    for suffix in ('.jpg', '.jpeg', '.png', '.bmp', '.JPG', '.JPEG', '.PNG'):
        path = osp.join(image_dir, stem + suffix)
        if osp.isfile(path):
            return path
    raise SalboxError(f'no image named {stem}.jpg/.png in {image_dir}')


def baseline_map(kind: str, height: int, width: int) -> np.ndarray:
    if kind == 'centre':
        return centre_prior(height, width)
    return np.full((height, width), 0.5, np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('mask_dir')
    parser.add_argument('out_dir')
    parser.add_argument('--kind', choices=['centre', 'uniform', 'spectral_residual'],
                        default='centre')
    parser.add_argument('--images', help='photo folder (for --kind spectral_residual)')
    parser.add_argument('--smooth', type=float, default=0.0,
                        help='spectral residual: Gaussian sigma as a fraction of the short side '
                        '(e.g. 0.03; default 0, no smoothing)')
    args = parser.parse_args(argv)
    if not osp.isdir(args.mask_dir):
        raise SalboxError(f'mask folder not found: {args.mask_dir}')
    if args.kind == 'spectral_residual' and not (args.images and osp.isdir(args.images)):
        raise SalboxError(f'--kind spectral_residual needs --images IMAGE_DIR (got {args.images})')
    masks = list_maps(args.mask_dir)
    if not masks:
        raise SalboxError(f'no masks found in {args.mask_dir}')
    os.makedirs(args.out_dir, exist_ok=True)
    for stem, path in sorted(masks.items()):
        height, width = read_map(path).shape[:2]
        if args.kind == 'spectral_residual':
            saliency = spectral_residual(find_image(args.images, stem), args.smooth)
            if saliency.shape != (height, width):
                raise SalboxError(f'image of {stem} is {saliency.shape[1]}x{saliency.shape[0]}, '
                                  f'its mask {path} is {width}x{height}')
        else:
            saliency = baseline_map(args.kind, height, width)
        write_map(osp.join(args.out_dir, stem + '.png'), saliency)
    print(f'{len(masks)} {args.kind} maps written to {args.out_dir}')


if __name__ == '__main__':
    run_friendly(main)
