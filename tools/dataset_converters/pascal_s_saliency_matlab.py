"""PASCAL-S from the public ``Saliency_Matlab`` snapshot into salbox's layout, with a seeded split.

The GitHub repository ``frankLeo123/Saliency_Matlab`` carries PASCAL-S (Li et al., CVPR 2014: 850
photos with soft masks, the fraction of annotators who selected each object) as
``config/pascal/<n>.jpg`` + ``config/mask/<n>.png``, next to a few stray files (``*.bmp``,
``Thumbs.db``, ``imgList.mat``) that are ignored. This tool writes the layout ``PASCALSDataset``
reads by default (docs/datasets.md)::

    OUT/images/<n>.jpg    copied byte for byte
    OUT/masks/<n>.png     copied byte for byte (8-bit gray; other modes converted with PIL 'L')
    OUT/train.txt         --num-train stems (default 680), one per line
    OUT/test.txt          the others (default 170)

The split shuffles the numerically sorted stems with ``random.Random(seed)`` (default seed 0), so
the same snapshot and seed always give the same lists. Use the lists as ``ann_file``::

    python tools/dataset_converters/pascal_s_saliency_matlab.py SNAPSHOT data/PASCAL-S
    dict(type='PASCALSDataset', data_root='data/PASCAL-S', ann_file='train.txt')

``SNAPSHOT`` is the repository checkout (or its ``config/`` folder). Every image needs a mask of
the same size; otherwise the tool stops with one line naming the file, before writing anything.
"""
import argparse
import os
import os.path as osp
import random
import shutil
import sys
from typing import Dict, List, Tuple

from PIL import Image

IMAGE_DIR, MASK_DIR = 'pascal', 'mask'


class ConversionError(Exception):
    """A problem with the snapshot or the output folder: printed as one line."""


def _stem_key(stem: str):
    return (0, int(stem), '') if stem.isdigit() else (1, 0, stem)


def find_config_dir(snapshot: str) -> str:
    """The folder holding ``pascal/`` and ``mask/``: SNAPSHOT/config or SNAPSHOT itself."""
    for candidate in (osp.join(snapshot, 'config'), snapshot):
        if osp.isdir(osp.join(candidate, IMAGE_DIR)) and osp.isdir(osp.join(candidate, MASK_DIR)):
            return candidate
    raise ConversionError(f'no {IMAGE_DIR}/ and {MASK_DIR}/ folders in {snapshot} or '
                          f'{osp.join(snapshot, "config")} (expected the Saliency_Matlab layout '
                          'config/pascal/<n>.jpg + config/mask/<n>.png)')


def collect_pairs(config_dir: str) -> List[Tuple[str, str, str]]:
    """(stem, image path, mask path) for every ``.jpg`` in pascal/, checked against mask/."""
    img_dir, mask_dir = osp.join(config_dir, IMAGE_DIR), osp.join(config_dir, MASK_DIR)
    images: Dict[str, str] = {osp.splitext(f)[0]: f for f in os.listdir(img_dir)
                              if f.lower().endswith('.jpg')}
    masks: Dict[str, str] = {osp.splitext(f)[0]: f for f in os.listdir(mask_dir)
                             if f.lower().endswith('.png')}
    if not images:
        raise ConversionError(f'no .jpg images in {img_dir}')
    no_mask = sorted(set(images) - set(masks), key=_stem_key)
    no_image = sorted(set(masks) - set(images), key=_stem_key)
    if no_mask or no_image:
        raise ConversionError(
            f'unpaired files: {len(no_mask)} images without a mask in {mask_dir} '
            f'(first: {no_mask[:3]}), {len(no_image)} masks without an image in {img_dir} '
            f'(first: {no_image[:3]})')
    pairs = []
    for stem in sorted(images, key=_stem_key):
        img_path, mask_path = osp.join(img_dir, images[stem]), osp.join(mask_dir, masks[stem])
        with Image.open(img_path) as img, Image.open(mask_path) as mask:
            if img.size != mask.size:
                raise ConversionError(f'size mismatch: {img_path} is {img.size[0]}x'
                                      f'{img.size[1]} but {mask_path} is {mask.size[0]}x'
                                      f'{mask.size[1]}')
        pairs.append((stem, img_path, mask_path))
    return pairs


def split_stems(stems: List[str], num_train: int, seed: int) -> Tuple[List[str], List[str]]:
    """Seeded shuffle of the sorted stems; both lists are returned sorted."""
    if not 0 < num_train < len(stems):
        raise ConversionError(f'--num-train must be between 1 and {len(stems) - 1} for '
                              f'{len(stems)} pairs, got {num_train}')
    order = sorted(stems, key=_stem_key)
    random.Random(seed).shuffle(order)
    return (sorted(order[:num_train], key=_stem_key), sorted(order[num_train:], key=_stem_key))


def write_mask(src: str, dst: str) -> None:
    """Copy an 8-bit gray PNG as it is; convert any other mode with PIL's 'L' weights."""
    with Image.open(src) as mask:
        if mask.mode == 'L':
            shutil.copyfile(src, dst)
        else:
            mask.convert('L').save(dst)


def convert(snapshot: str, out: str, num_train: int = 680, seed: int = 0) -> Tuple[int, int]:
    """Write OUT/{images,masks,train.txt,test.txt}; returns (train, test) sizes."""
    if osp.exists(out):
        raise ConversionError(f'output folder already exists: {out}')
    pairs = collect_pairs(find_config_dir(snapshot))
    train, test = split_stems([p[0] for p in pairs], num_train, seed)
    tmp = out.rstrip('/') + '.partial'
    if osp.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(osp.join(tmp, 'images'))
    os.makedirs(osp.join(tmp, 'masks'))
    for stem, img_path, mask_path in pairs:
        shutil.copyfile(img_path, osp.join(tmp, 'images', stem + '.jpg'))
        write_mask(mask_path, osp.join(tmp, 'masks', stem + '.png'))
    for name, stems in (('train.txt', train), ('test.txt', test)):
        with open(osp.join(tmp, name), 'w', encoding='utf-8') as f:
            f.write(''.join(s + '\n' for s in stems))
    os.replace(tmp, out)  # the folder appears when complete
    return len(train), len(test)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert PASCAL-S from the Saliency_Matlab snapshot to images/ + masks/ '
                    'with a seeded train/test split')
    parser.add_argument('snapshot', help='Saliency_Matlab checkout (or its config/ folder)')
    parser.add_argument('out', help='output folder, e.g. data/PASCAL-S (must not exist)')
    parser.add_argument('--num-train', type=int, default=680,
                        help='images in train.txt (default 680; the rest go to test.txt)')
    parser.add_argument('--seed', type=int, default=0, help='split seed (default 0)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        num_train, num_test = convert(args.snapshot, args.out, args.num_train, args.seed)
    except (ConversionError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'wrote {num_train + num_test} PASCAL-S pairs to {args.out}/images + masks; '
          f'split (seed {args.seed}): {num_train} in train.txt, {num_test} in test.txt')
    return 0


if __name__ == '__main__':
    sys.exit(main())
