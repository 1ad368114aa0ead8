"""Check converted SOD benchmarks: pairs, unpaired files, unreadable files, size disagreements.

    python tools/dataset_converters/check.py data                      # every set found
    python tools/dataset_converters/check.py data --dataset DUTS       # data/DUTS only
    python tools/dataset_converters/check.py data/ECSSD --dataset ECSSD

Looks for each benchmark of docs/datasets.md under ``DATA_ROOT/<name>`` (with ``--dataset`` also
in ``DATA_ROOT`` itself), pairs images and masks by file stem as the salbox datasets do, decodes
every file completely (PIL ``load()``: a truncated file is caught, not only a bad header) and
compares image and mask sizes. Prints one block per split; exits with 1 when anything is wrong
or nothing was found, else 0.
"""
import argparse
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from PIL import Image

from sod_layouts import LAYOUTS, Split, short_list


@dataclass
class SplitCheck:
    split: str
    root: str
    pairs: int = 0
    missing_folder: Optional[str] = None
    images_without_mask: List[str] = field(default_factory=list)
    masks_without_image: List[str] = field(default_factory=list)
    unreadable: List[str] = field(default_factory=list)
    size_mismatch: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing_folder or self.images_without_mask or self.masks_without_image
                    or self.unreadable or self.size_mismatch)

    def lines(self) -> List[str]:
        if self.missing_folder:
            return [f'{self.split}: folder not found: {self.missing_folder}']
        out = [f'{self.split}: {self.pairs} pairs, {len(self.images_without_mask)} images '
               f'without a mask, {len(self.masks_without_image)} masks without an image, '
               f'{len(self.unreadable)} unreadable files, {len(self.size_mismatch)} size '
               f'disagreements ({self.root})']
        for title, names in (('images without a mask', self.images_without_mask),
                             ('masks without an image', self.masks_without_image),
                             ('unreadable', self.unreadable),
                             ('image and mask sizes differ', self.size_mismatch)):
            if names:
                out.append(f'  {title}: {short_list(names)}')
        return out


def _files(folder: str, exts) -> dict:
    """stem -> file name for the files of ``folder`` ending with one of ``exts``."""
    exts = tuple(e.lower() for e in exts)
    return {osp.splitext(n)[0]: n for n in sorted(os.listdir(folder))
            if n.lower().endswith(exts) and osp.isfile(osp.join(folder, n))}


def _size(path: str) -> Optional[Tuple[int, int]]:
    """(width, height) after a full decode, or None when the file cannot be decoded."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.size
    except Exception:  # noqa: BLE001 - any decoder failure means "unreadable"
        return None


def check_split(root: str, layout: Split) -> SplitCheck:
    result = SplitCheck(layout.name, root)
    img_dir, mask_dir = osp.join(root, layout.img_dir), osp.join(root, layout.mask_dir)
    for folder in (img_dir, mask_dir):
        if not osp.isdir(folder):
            result.missing_folder = folder
            return result
    images = _files(img_dir, layout.img_exts)
    masks = _files(mask_dir, (layout.mask_ext, ))
    if img_dir == mask_dir:  # side by side: a .png is a mask, never an image
        images = {s: n for s, n in images.items() if not n.lower().endswith(layout.mask_ext)}
    result.images_without_mask = sorted(images[s] for s in set(images) - set(masks))
    result.masks_without_image = sorted(masks[s] for s in set(masks) - set(images))
    for stem in sorted(set(images) & set(masks)):
        img_path, mask_path = osp.join(img_dir, images[stem]), osp.join(mask_dir, masks[stem])
        sizes = []
        for path in (img_path, mask_path):
            size = _size(path)
            if size is None:
                result.unreadable.append(osp.relpath(path, root))
            sizes.append(size)
        if None not in sizes and sizes[0] != sizes[1]:
            result.size_mismatch.append(f'{stem} (image {sizes[0][0]}x{sizes[0][1]}, '
                                        f'mask {sizes[1][0]}x{sizes[1][1]})')
        result.pairs += 1
    return result


def dataset_root(data_root: str, name: str, explicit: bool) -> Optional[str]:
    candidate = osp.join(data_root, name)
    if osp.isdir(candidate):
        return candidate
    if explicit and any(osp.isdir(osp.join(data_root, s.img_dir)) for s in LAYOUTS[name]):
        return data_root
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='folder holding the benchmarks (e.g. data)')
    parser.add_argument('--dataset', choices=sorted(LAYOUTS), help='check only this benchmark')
    args = parser.parse_args(argv)
    if not osp.isdir(args.data_root):
        print(f'error: data root not found: {args.data_root}', file=sys.stderr)
        return 1
    names = [args.dataset] if args.dataset else list(LAYOUTS)
    checks = []
    for name in names:
        root = dataset_root(args.data_root, name, explicit=bool(args.dataset))
        if root is None:
            continue
        print(f'{name} ({root})')
        found = [check_split(root, layout) for layout in LAYOUTS[name]]
        for check in found:
            if check.missing_folder and any(not c.missing_folder for c in found):
                print(f'  {check.split}: not present, skipped')  # e.g. only DUTS-TR converted
                continue
            print('\n'.join('  ' + line for line in check.lines()))
            checks.append(check)
    if not checks:
        wanted = args.dataset or ', '.join(LAYOUTS)
        print(f'error: no benchmark folder ({wanted}) found under {args.data_root} '
              '(layouts: docs/datasets.md)', file=sys.stderr)
        return 1
    bad = [c for c in checks if not c.ok]
    total = sum(c.pairs for c in checks)
    print(f'{len(checks)} splits, {total} pairs: ' +
          ('all good' if not bad else f'problems in {", ".join(c.split for c in bad)}'))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
