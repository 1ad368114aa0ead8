"""Image/mask folder datasets for salient object detection.

Mirrors MMSegmentation's ``BaseSegDataset`` (``mmseg/datasets/basesegdataset.py``): a
``BaseDataset`` whose ``load_data_list`` pairs ``<stem><img_suffix>`` in ``data_prefix['img_path']``
with ``<stem><mask_suffix>`` in ``data_prefix['gt_path']`` (or reads the stems from an
``ann_file``). Unlike mmseg, pairing problems are errors that name the files, never a silent skip.
"""
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset

from salbox.registry import DATASETS
from salbox.utils.errors import DataError, DatasetNotFoundError
from salbox.utils.image_io import (MAX_PIXELS_ENV, image_size_oriented, image_size_raw,
                                   max_image_pixels)
from salbox.utils.pairing import matching_suffix, pair_by_stem

DOCS_HINT = 'docs/datasets.md'
MAX_NAMES_SHOWN = 5


def _as_suffixes(suffix: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    suffixes = (suffix, ) if isinstance(suffix, str) else tuple(suffix)
    if not suffixes or not all(isinstance(s, str) and s for s in suffixes):
        raise ValueError(f'a suffix must be a non-empty string or a list of them, got {suffix!r}')
    return suffixes


def _short_list(names: Sequence[str]) -> str:
    shown = ', '.join(names[:MAX_NAMES_SHOWN])
    more = len(names) - MAX_NAMES_SHOWN
    return shown + (f', ... and {more} more' if more > 0 else '')


def _plural(count: int, word: str) -> str:
    return f'{count} {word}' + ('' if count == 1 else 's')


@DATASETS.register_module()
class SalientObjectDataset(BaseDataset):
    """Images and saliency masks paired by file stem (MMSeg ``BaseSegDataset`` conventions).

    Two folder layouts are supported: images and masks side by side in one folder
    (MSRA10K as released, and R3Net's ``datasets.py make_dataset``: ``name.jpg`` + ``name.png``),
    or separate image and mask folders (DUTS, ECSSD, HKU-IS, ...). Folders are scanned flat
    (no recursion) and suffixes match case-insensitively.

    Args:
        data_root (str): root folder of the data set.
        data_prefix (dict): ``img_path`` and ``gt_path`` folders, relative to ``data_root``
            (the same folder for the side-by-side layout).
        ann_file (str): optional text file with one stem (or file name) per line; without it
            every image in the image folder is used.
        img_suffix (str | list[str]): image file ending(s). Default ``'.jpg'``.
        mask_suffix (str): mask file ending. Default ``'.png'``.
        dataset_name (str, optional): the name metrics group by. Defaults to the class's
            ``DEFAULT_NAME`` (e.g. ``'ECSSD'``), or the data root's folder name.
        on_missing (str): ``'error'`` (default) or ``'warn'``: what to do with an image without
            a mask or a mask without an image. ``'warn'`` keeps only the complete pairs.
        check_sizes (bool): compare image and mask sizes at load time from the file headers
            (PIL reads only the header: about 0.1 ms a pair). Default True. Either way
            ``LoadSalAnnotation`` checks the sizes again when a sample is loaded.
        **kwargs: the rest of ``mmengine.dataset.BaseDataset``'s arguments (``pipeline``,
            ``test_mode``, ``lazy_init``, ``indices``, ``serialize_data``, ``metainfo``, ...).

    Each ``data_list`` entry is ``dict(img_path, gt_path, dataset_name)``.
    """
    DEFAULT_NAME: Optional[str] = None
    # Shown in "folder not found" errors: where the data set is published.
    SOURCE_HINT: str = ''

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Dict[str, str] = dict(img_path='', gt_path=''),
                 ann_file: str = '',
                 img_suffix: Union[str, Sequence[str]] = '.jpg',
                 mask_suffix: str = '.png',
                 dataset_name: Optional[str] = None,
                 on_missing: str = 'error',
                 check_sizes: bool = True,
                 **kwargs) -> None:
        if on_missing not in ('error', 'warn'):
            raise ValueError(f"on_missing must be 'error' or 'warn', got {on_missing!r}")
        data_prefix = dict(data_prefix)
        for key in ('img_path', 'gt_path'):
            data_prefix.setdefault(key, '')
        self.img_suffixes = _as_suffixes(img_suffix)
        self.mask_suffix = _as_suffixes(mask_suffix)[0]
        self.on_missing = on_missing
        self.check_sizes = check_sizes
        self.dataset_name = dataset_name or self.DEFAULT_NAME or \
            osp.basename(osp.normpath(data_root or data_prefix['img_path'] or '.'))
        super().__init__(data_root=data_root, data_prefix=data_prefix, ann_file=ann_file,
                         **kwargs)

    # ----------------------------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        img_dir, gt_dir = self.data_prefix['img_path'], self.data_prefix['gt_path']
        self._check_folder(img_dir, 'image')
        if gt_dir != img_dir:
            self._check_folder(gt_dir, 'mask')
        same_folder = osp.normpath(img_dir) == osp.normpath(gt_dir)
        if same_folder and matching_suffix(self.mask_suffix, self.img_suffixes) \
                == self.mask_suffix:
            raise DataError(f'{self.dataset_name}: images and masks share the folder {img_dir} '
                            f'and the suffix {self.mask_suffix!r}, so they cannot be told '
                            'apart; give the masks a distinct suffix or folder')
        found = pair_by_stem(img_dir, self.img_suffixes, gt_dir, (self.mask_suffix, ),
                             stems=self._read_ann_file() if self.ann_file else None,
                             exclude=self.mask_suffix if same_folder else None)
        if not (found.pairs or found.first_only or found.not_found):  # no stem wanted
            suffixes = '/'.join(self.img_suffixes)
            raise DatasetNotFoundError(
                f'{self.dataset_name}: no {suffixes} images in {img_dir}; download the data set '
                f'and lay it out as {DOCS_HINT} describes{self._source_note()}')
        self._report_unpaired(sorted(found.first[s] for s in found.first_only),
                              sorted(found.second[s] for s in found.second_only),
                              sorted(s + self.img_suffixes[0] for s in found.not_found),
                              img_dir, gt_dir)
        pairs = [(img, gt) for _, img, gt in found.pairs]
        if not pairs:
            raise DataError(f'{self.dataset_name}: no image in {img_dir} has a mask in {gt_dir}')
        if self.check_sizes:
            self._check_sizes(pairs)
        return [dict(img_path=img, gt_path=gt, dataset_name=self.dataset_name)
                for img, gt in pairs]

    # ----------------------------------------------------------------------------------------
    def _source_note(self) -> str:
        return f' (get: {self.SOURCE_HINT})' if self.SOURCE_HINT else ''

    def _check_folder(self, folder: str, what: str) -> None:
        if not osp.isdir(folder):
            raise DatasetNotFoundError(
                f'{self.dataset_name}: {what} folder not found: {osp.abspath(folder)}; download '
                f'the data set and lay it out as {DOCS_HINT} describes{self._source_note()}')

    def _read_ann_file(self) -> List[str]:
        if not osp.isfile(self.ann_file):
            raise DatasetNotFoundError(f'{self.dataset_name}: ann_file not found: {self.ann_file}')
        stems = []
        with open(self.ann_file, encoding='utf-8') as f:
            for line in f:
                name = osp.basename(line.strip())
                if not name:
                    continue
                suffix = matching_suffix(name, self.img_suffixes + (self.mask_suffix, ))
                stems.append(name[:-len(suffix)] if suffix else name)
        return stems

    def _report_unpaired(self, missing_masks: List[str], orphan_masks: List[str],
                         missing_images: List[str], img_dir: str, gt_dir: str) -> None:
        problems = []
        if missing_masks:
            problems.append(f'{_plural(len(missing_masks), "image")} without a mask in {gt_dir} '
                            f'({_short_list(missing_masks)})')
        if orphan_masks:
            problems.append(f'{_plural(len(orphan_masks), "mask")} without an image in '
                            f'{img_dir} ({_short_list(orphan_masks)})')
        if missing_images:
            problems.append(f'{_plural(len(missing_images), "name")} of {self.ann_file} with no '
                            f'image in {img_dir} ({_short_list(missing_images)})')
        if not problems:
            return
        message = f'{self.dataset_name}: ' + '; '.join(problems)
        if self.on_missing == 'error':
            raise DataError(message + " (on_missing='warn' keeps only the complete pairs)")
        warnings.warn(message + '; only the complete pairs are used', stacklevel=2)

    def _check_sizes(self, pairs: Sequence[Tuple[str, str]]) -> None:
        """Read every header; list every unreadable, oversized or mismatched file at once."""
        unreadable, too_large, mismatched = [], [], []
        limit = max_image_pixels()
        for img_path, gt_path in pairs:
            sizes = []
            # Images are loaded with their EXIF orientation applied (LoadSalImageFromFile).
            for path, what in ((img_path, 'image'), (gt_path, 'mask')):
                try:
                    size = (image_size_oriented if what == 'image' else image_size_raw)(path, what)
                    sizes.append(size[::-1])  # (W, H), as the messages say
                except DataError as error:
                    unreadable.append(str(error))
                    continue
                if sizes[-1][0] * sizes[-1][1] > limit:
                    too_large.append(f'{path} ({sizes[-1][0]}x{sizes[-1][1]})')
            if len(sizes) == 2 and sizes[0] != sizes[1]:
                img_size, gt_size = sizes
                mismatched.append(f'{osp.basename(img_path)} {img_size[0]}x{img_size[1]} vs '
                                  f'{osp.basename(gt_path)} {gt_size[0]}x{gt_size[1]}')
        problems = []
        if unreadable:
            problems.append(f'{_plural(len(unreadable), "unreadable file")}:\n  '
                            + '\n  '.join(unreadable))
        if too_large:
            problems.append(f'{_plural(len(too_large), "image")} above the '
                            f'{limit / 1e6:.0f} MP limit ({MAX_PIXELS_ENV}):\n  '
                            + '\n  '.join(too_large))
        if mismatched:
            problems.append(f'{_plural(len(mismatched), "image")} and mask differ in size '
                            '(W x H):\n  ' + '\n  '.join(mismatched))
        if problems:
            raise DataError(f'{self.dataset_name}: {len(pairs)} pairs scanned, '
                            + '; '.join(p.split(':')[0] for p in problems) + '\n'
                            + '\n'.join(problems))

