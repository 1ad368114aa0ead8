"""Write a synthetic SOD data set in a benchmark layout.

    python tools/dataset_converters/make_synthetic.py data/synthetic/train --num 500 \
        --size 160 160 --seed 0 --layout separate

``--layout separate`` writes ``OUT/images/*.jpg`` + ``OUT/masks/*.png`` (read it with
``SalientObjectDataset(data_root=OUT, data_prefix=dict(img_path='images', gt_path='masks'))`` or
``SyntheticSalDataset``); ``--layout msra10k`` writes both side by side in ``OUT/Imgs/`` (read it
with ``MSRA10KDataset(data_root=OUT)``). The folder appears atomically, when complete.
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

from tqdm import tqdm  # noqa: E402

from salbox.datasets.synthetic import LAYOUTS, write_synthetic_folder  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Generate a synthetic salient object data set')
    parser.add_argument('out', help='output folder (must not exist)')
    parser.add_argument('--num', type=int, default=500, help='number of images (default 500)')
    parser.add_argument('--size', type=int, nargs=2, default=(160, 160), metavar=('H', 'W'),
                        help='image height and width (default 160 160)')
    parser.add_argument('--seed', type=int, default=0, help='data seed (default 0)')
    parser.add_argument('--layout', choices=sorted(LAYOUTS), default='separate',
                        help='separate: images/ + masks/; msra10k: side by side in Imgs/')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if osp.exists(args.out):
        print(f'error: output folder already exists: {args.out}', file=sys.stderr)
        return 1
    start = time.perf_counter()
    progress = None if args.no_progress else \
        (lambda it: tqdm(it, desc='synthetic', unit='img'))
    out = write_synthetic_folder(args.out, args.num, tuple(args.size), args.seed, args.layout,
                                 progress=progress)
    print(f'wrote {args.num} image/mask pairs ({args.size[0]}x{args.size[1]}, seed {args.seed}, '
          f'layout {args.layout}) to {out} in {time.perf_counter() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
