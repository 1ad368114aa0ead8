"""Write trivial saliency maps for a folder of masks, to show what a model must beat.

    python tools/analysis_tools/baseline_maps.py MASK_DIR OUT_DIR [--kind centre|uniform]

``centre``: an isotropic Gaussian centre prior (std a quarter of each side), the classic
"photographers centre their subject" baseline; ``uniform``: a constant map. One 8-bit PNG per
mask, same stem and size.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from salbox.apis.runner_utils import run_friendly  # noqa: E402
from salbox.evaluation import list_maps, read_map, write_map  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402


def centre_prior(height: int, width: int) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width].astype(np.float64)
    dy = (yy - (height - 1) / 2) / (height / 4)
    dx = (xx - (width - 1) / 2) / (width / 4)
    return np.exp(-0.5 * (dy ** 2 + dx ** 2)).astype(np.float32)


def baseline_map(kind: str, height: int, width: int) -> np.ndarray:
    if kind == 'centre':
        return centre_prior(height, width)
    return np.full((height, width), 0.5, np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('mask_dir')
    parser.add_argument('out_dir')
    parser.add_argument('--kind', choices=['centre', 'uniform'], default='centre')
    args = parser.parse_args(argv)
    if not osp.isdir(args.mask_dir):
        raise SalboxError(f'mask folder not found: {args.mask_dir}')
    masks = list_maps(args.mask_dir)
    if not masks:
        raise SalboxError(f'no masks found in {args.mask_dir}')
    os.makedirs(args.out_dir, exist_ok=True)
    for stem, path in sorted(masks.items()):
        height, width = read_map(path).shape[:2]
        write_map(osp.join(args.out_dir, stem + '.png'), baseline_map(args.kind, height, width))
    print(f'{len(masks)} {args.kind} maps written to {args.out_dir}')


if __name__ == '__main__':
    run_friendly(main)
