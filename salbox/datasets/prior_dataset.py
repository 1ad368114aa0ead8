"""Images plus prior saliency maps: the (label-free) training data of the MI promoter.

LDPS (Chen et al., AAAI 2020, Sec. 4.2 and 5.3) trains on DUTS-TE images with the saliency maps
of another detector (PiCANet) as priors and never uses their ground truth. The priors are a
folder of any method's saved maps, paired with the images by file stem. A salbox detector as
the prior source is not a data transform but the promoter's first stage
(``model.first_stage=dict(config=..., checkpoint=...)``,
``salbox/models/promoters/first_stage.py``): the dataset then lists the images only
(``priors_from_model=True``).

**Ground truth is never read here**: the data list has no ``gt_path`` and no transform in this
module opens a mask file.
"""
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.structures import PixelData

from salbox.registry import DATASETS, TRANSFORMS
from salbox.structures import PRIOR_KEY, SalDataSample
from salbox.utils.errors import DataError, DatasetNotFoundError
from salbox.utils.image_io import IMAGE_SUFFIXES as IMG_SUFFIXES
from salbox.utils.image_io import image_size_oriented, image_size_raw
from salbox.utils.pairing import files_by_stem, pair_by_stem
from .transforms.formatting import PackSalInputs
from .transforms.loading import (_COLOR, _UNCHANGED, mask_to_float,  # noqa: F401
                                 read_image_file)

PRIOR_META_KEYS = ('img_path', 'prior_path', 'gt_path', 'dataset_name', 'ori_shape',
                   'img_shape')


def _size_or_none(path: str, oriented: bool) -> Optional[Tuple[int, int]]:
    """(height, width) as the file decodes (the image with its EXIF orientation, as
    :func:`read_pair` reads it; the prior as stored), None when unreadable."""
    try:
        return image_size_oriented(path) if oriented else image_size_raw(path)
    except DataError:
        return None


def pair_images_and_priors(img_dir: str, prior_dir: str,
                           img_suffixes: Sequence[str] = IMG_SUFFIXES,
                           prior_suffix: str = '.png', stems: Optional[Sequence[str]] = None,
                           check_sizes: bool = True
                           ) -> Tuple[List[Tuple[str, str, str]], Dict[str, List[str]]]:
    """Pair ``img_dir/<stem>.<ext>`` with ``prior_dir/<stem><prior_suffix>``.

    Returns ``(pairs, problems)``: ``pairs`` are (stem, image path, prior path) with readable,
    same-size files; ``problems`` maps ``'missing prior'``, ``'missing image'``,
    ``'size mismatch'`` and ``'unreadable'`` to the names concerned (nothing raises halfway).
    Two images with one stem (``a.jpg`` and ``a.png``: which one the prior ``a.png`` belongs to
    is unknown, and their promoted maps would overwrite each other) raise ``DataError`` naming
    both (``salbox.utils.pairing``).
    """
    for folder, what in ((img_dir, 'image'), (prior_dir, 'prior')):
        if not osp.isdir(folder):
            raise DatasetNotFoundError(f'{what} folder not found: {osp.abspath(folder)}')
    found = pair_by_stem(img_dir, img_suffixes, prior_dir, (prior_suffix, ), stems)
    problems: Dict[str, List[str]] = {
        'missing prior': [found.first[s] for s in found.first_only],
        'missing image': found.not_found if stems is not None else found.second_only,
        'size mismatch': [], 'unreadable': []}
    pairs = []
    for stem, img_path, prior_path in found.pairs:
        img_name, prior_name = found.first[stem], found.second[stem]
        if check_sizes:
            img_size = _size_or_none(img_path, oriented=True)
            prior_size = _size_or_none(prior_path, oriented=False)
            if img_size is None or prior_size is None:
                problems['unreadable'].append(img_name if img_size is None else prior_name)
                continue
            if img_size != prior_size:
                problems['size mismatch'].append(
                    f'{prior_name} {prior_size[1]}x{prior_size[0]} vs {img_name} '
                    f'{img_size[1]}x{img_size[0]}')
                continue
        pairs.append((stem, img_path, prior_path))
    return pairs, {k: v for k, v in problems.items() if v}


def read_prior(path: str, shape: Optional[Tuple[int, int]] = None,
               resize: bool = False) -> np.ndarray:
    """A prior map file -> (H, W) float32 in [0, 1] (8/16-bit, gray or colour). With ``shape``
    a different size raises ``DataError`` naming the file, or with ``resize`` is resized
    bilinearly (the official loader resizes priors to the image, ``saliency_dataset.py``)."""
    prior = mask_to_float(read_image_file(path, _UNCHANGED, 'prior map'), path)
    if shape is not None and tuple(prior.shape) != tuple(shape[:2]):
        if not resize:
            raise DataError(f'prior map {path} is {prior.shape[0]}x{prior.shape[1]} (H x W) but '
                            f'its image is {shape[0]}x{shape[1]}')
        prior = cv2.resize(prior, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return prior


def read_pair(img_path: str, prior_path: str, resize_prior: bool = False
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """(uint8 RGB (3, H, W), float prior (1, H, W)) from an image and a prior file."""
    bgr = read_image_file(img_path, _COLOR, 'image')
    prior = read_prior(prior_path, bgr.shape[:2], resize_prior)
    rgb = torch.from_numpy(np.ascontiguousarray(bgr[:, :, ::-1].transpose(2, 0, 1)))
    return rgb, torch.from_numpy(prior)[None]


@TRANSFORMS.register_module()
class LoadPriorMap(BaseTransform):
    """Set ``results['prior_sal_map']`` ((H, W) float32 in [0, 1]) from ``results['prior_path']``
    (put this after ``LoadSalImageFromFile``). A sample of a ``priors_from_model`` dataset has
    no prior file and is left without one: the promoter's first stage makes it.

    Args:
        resize: resize a prior whose size differs from the image's instead of raising.
    """

    def __init__(self, resize: bool = False) -> None:
        self.resize = resize

    def transform(self, results: dict) -> dict:
        if not results.get('prior_path'):
            if results.get('priors_from_model'):
                return results
            raise DataError(f'no prior for {results.get("img_path", "the image")}: give the '
                            'dataset prior maps (data_prefix.prior_path), or priors_from_model='
                            'True with a model.first_stage')
        prior = read_prior(results['prior_path'], results['img'].shape[:2], self.resize)
        results[PRIOR_KEY] = np.ascontiguousarray(prior, dtype=np.float32)
        return results


@TRANSFORMS.register_module()
class PackPriorInputs(BaseTransform):
    """Pack the image (uint8 BGR (3, H, W)) as ``inputs`` and the prior as
    ``data_sample.prior_sal_map = PixelData(float32 (1, H, W))``; ``gt_sal_map`` only when an
    evaluation pipeline loaded it (``LoadSalAnnotation``); ``ori_img`` with ``keep_ori_img``
    (as ``PackSalInputs``)."""

    def __init__(self, meta_keys: Sequence[str] = PRIOR_META_KEYS,
                 keep_ori_img: bool = False) -> None:
        self.meta_keys = tuple(meta_keys)
        self.keep_ori_img = bool(keep_ori_img)

    def transform(self, results: dict) -> dict:
        img = results['img']
        sample = SalDataSample()
        if results.get(PRIOR_KEY) is not None:  # else made by the model's first stage
            sample.set_field(PixelData(data=torch.from_numpy(results[PRIOR_KEY])[None]),
                             PRIOR_KEY)
        if results.get('gt_sal_map') is not None:
            sample.gt_sal_map = PixelData(data=torch.from_numpy(
                np.ascontiguousarray(results['gt_sal_map'], dtype=np.float32))[None])
        if self.keep_ori_img:  # the decoded original image, as PackSalInputs packs it
            sample.ori_img = PackSalInputs.pack_ori_img(results)
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))),
                    data_samples=sample)


@DATASETS.register_module()
class PriorMapDataset(BaseDataset):
    """Images and prior maps (no ground truth).

    Args:
        data_root: root folder; ``data_prefix`` paths are relative to it.
        data_prefix: ``img_path`` (images) and ``prior_path`` (prior maps; leave empty with
            ``priors_from_model``).
        ann_file: optional list of stems (one per line); default every image.
        img_suffix: image endings. prior_suffix: prior map ending (default ``.png``).
        priors_from_model: list the images only; the priors are made by the promoter's
            ``model.first_stage`` (a frozen salbox detector it owns).
        gt_dir: masks for evaluation only (``val``/``test`` sets, the code evaluates promoted maps
            against ground truth): allowed only with ``test_mode=True``, so a training set can
            never load ground truth.
        on_missing: ``'error'`` (default) lists every image without a prior (or of another size)
            by name and stops; ``'warn'`` lists them and keeps the complete pairs.
        filter_cfg: ``dict(theta_fg=0.9, theta_abg=0.3)`` keeps only the pairs whose prior has
            an anchor pixel (>= theta_fg) and a negative pixel (<= theta_abg), the official
            training-data filter (LDPS ``lib/dataset/saliency_dataset.py``,
            ``SaliencyDataset._prior_check``); pairs without either teach nothing. None
            (default) keeps every pair. Prior files only (not with ``priors_from_model``).
        dataset_name: for logs. **kwargs: ``mmengine.dataset.BaseDataset`` arguments.
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Dict[str, str] = dict(img_path='', prior_path=''),
                 ann_file: str = '',
                 img_suffix: Union[str, Sequence[str]] = IMG_SUFFIXES,
                 prior_suffix: str = '.png',
                 priors_from_model: bool = False,
                 gt_dir: Optional[str] = None,
                 gt_suffix: str = '.png',
                 on_missing: str = 'error',
                 dataset_name: Optional[str] = None,
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        if on_missing not in ('error', 'warn'):
            raise ValueError(f"on_missing must be 'error' or 'warn', got {on_missing!r}")
        data_prefix = dict(data_prefix)
        data_prefix.setdefault('img_path', '')
        data_prefix.setdefault('prior_path', '')
        if not priors_from_model and not data_prefix['prior_path']:
            raise ValueError('PriorMapDataset needs data_prefix.prior_path (a folder of prior '
                             'maps) or priors_from_model=True (model.first_stage makes them)')
        if gt_dir is not None and not kwargs.get('test_mode', False):
            raise ValueError('PriorMapDataset: gt_dir is for evaluation sets only (test_mode='
                             'True); the promoter is trained without ground truth')
        self.gt_dir, self.gt_suffix = gt_dir, gt_suffix
        self.img_suffixes = (img_suffix, ) if isinstance(img_suffix, str) else tuple(img_suffix)
        self.prior_suffix = prior_suffix
        self.priors_from_model = bool(priors_from_model)
        self.on_missing = on_missing
        self.dataset_name = dataset_name or osp.basename(osp.normpath(data_root or '.'))
        super().__init__(data_root=data_root, data_prefix=data_prefix, ann_file=ann_file,
                         pipeline=pipeline, **kwargs)

    def _stems(self) -> Optional[List[str]]:
        if not self.ann_file:
            return None
        if not osp.isfile(self.ann_file):
            raise DatasetNotFoundError(f'{self.dataset_name}: ann_file not found: '
                                       f'{self.ann_file}')
        with open(self.ann_file, encoding='utf-8') as f:
            return [osp.splitext(osp.basename(line.strip()))[0] for line in f if line.strip()]

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix['img_path']
        if self.priors_from_model:
            if not osp.isdir(img_dir):
                raise DatasetNotFoundError(f'image folder not found: {osp.abspath(img_dir)}')
            images = files_by_stem(img_dir, self.img_suffixes)
            stems = self._stems() or sorted(images)
            missing = [s for s in stems if s not in images]
            if missing:
                raise DataError(f'{self.dataset_name}: no image for {", ".join(missing[:5])}')
            return self._add_gt([dict(img_path=osp.join(img_dir, images[s]),
                                      priors_from_model=True, dataset_name=self.dataset_name)
                                 for s in stems], stems)
        pairs, problems = pair_images_and_priors(img_dir, self.data_prefix['prior_path'],
                                                 self.img_suffixes, self.prior_suffix,
                                                 self._stems())
        if problems:
            message = f'{self.dataset_name}: ' + '; '.join(
                f'{kind}: {", ".join(names)}' for kind, names in problems.items())
            if self.on_missing == 'error' or not pairs:
                raise DataError(message)
            warnings.warn(message + '; only the complete pairs are used', stacklevel=2)
        return self._add_gt([dict(img_path=img, prior_path=prior, dataset_name=self.dataset_name)
                             for _, img, prior in pairs], [stem for stem, _, _ in pairs])

    def filter_data(self) -> List[dict]:
        """Apply ``filter_cfg`` (see the class doc); logs how many pairs were dropped."""
        if not self.filter_cfg:
            return self.data_list
        unknown = set(self.filter_cfg) - {'theta_fg', 'theta_abg'}
        if unknown or self.priors_from_model:
            raise ValueError(f'PriorMapDataset: filter_cfg takes theta_fg and theta_abg on prior '
                             f'files only, got {dict(self.filter_cfg)}'
                             + (' with priors_from_model=True' if self.priors_from_model else ''))
        theta_fg = float(self.filter_cfg.get('theta_fg', 0.9))
        theta_abg = float(self.filter_cfg.get('theta_abg', 0.3))
        kept = []
        for info in self.data_list:
            prior = read_prior(info['prior_path'])
            if prior.max() >= theta_fg and prior.min() <= theta_abg:
                kept.append(info)
        if not kept:
            raise DataError(f'{self.dataset_name}: no prior has both a pixel >= theta_fg='
                            f'{theta_fg} and a pixel <= theta_abg={theta_abg}; nothing to learn '
                            'from')
        if len(kept) < len(self.data_list):
            print_log(f'{self.dataset_name}: {len(kept)} of {len(self.data_list)} pairs kept '
                      f'(the others\' priors lack a pixel >= {theta_fg} or <= {theta_abg})',
                      logger='current')
        return kept

    def _add_gt(self, data_list: List[dict], stems: Sequence[str]) -> List[dict]:
        """Masks for evaluation sets only (``gt_dir`` needs ``test_mode``, see ``__init__``)."""
        if self.gt_dir is not None:
            gt_dir = osp.join(self.data_root, self.gt_dir) if self.data_root else self.gt_dir
            for info, stem in zip(data_list, stems):
                info['gt_path'] = osp.join(gt_dir, stem + self.gt_suffix)
        return data_list


def corrupt_prior(mask: np.ndarray, seed: int, blur: float = 0.04, holes: int = 2,
                  blobs: int = 2) -> np.ndarray:
    """A deliberately weakened prior made from a mask, for tests and the ``_synthetic`` demo
    (chosen): blurred edges (Gaussian, sigma ``blur`` x the short side), ``holes`` dark
    ellipses inside the object (values scaled by 0.35) and ``blobs`` false Gaussian blobs in the
    background (peak 0.55-0.75). Priors are written once, before training; training reads only
    the prior files. Returns (H, W) float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    mask = mask.astype(np.float32) / (255.0 if mask.dtype == np.uint8 else 1.0)
    height, width = mask.shape
    scale = min(height, width)
    prior = cv2.GaussianBlur(mask, (0, 0), sigmaX=blur * scale)
    inside = np.argwhere(mask > 0.9)
    for _ in range(holes if len(inside) else 0):
        y, x = inside[rng.integers(len(inside))]
        hole = np.zeros_like(prior)
        axes = (int(scale * rng.uniform(0.05, 0.09)), int(scale * rng.uniform(0.04, 0.07)))
        cv2.ellipse(hole, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        hole = cv2.GaussianBlur(hole, (0, 0), sigmaX=1.0)
        prior = prior * (1.0 - 0.65 * hole)
    outside = np.argwhere(cv2.GaussianBlur(mask, (0, 0), sigmaX=0.08 * scale) < 0.02)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    for _ in range(blobs if len(outside) else 0):
        y, x = outside[rng.integers(len(outside))]
        sigma = scale * rng.uniform(0.05, 0.09)
        blob = rng.uniform(0.55, 0.75) * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma ** 2))
        prior = np.maximum(prior, blob)
    return np.clip(prior, 0.0, 1.0).astype(np.float32)
