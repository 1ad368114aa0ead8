"""Joint geometric transforms: the same geometry is applied to ``img`` and to every map that
is present: the mask ``gt_sal_map`` and the prior ``prior_sal_map`` (the MI promoter's training
input). Masks use the transform's ``mask_interpolation``; priors, soft by nature, are always
resized and rotated bilinearly.

R3Net's training augmentation (``R3Net:joint_transforms.py``, used in ``train.py`` in this order):
``RandomCrop(300)`` (resize to 300x300 when a side is smaller), ``RandomHorizontallyFlip``,
``RandomRotate(10)``. Randomness comes from ``np.random`` (seeded by mmengine's ``randomness``
and per dataloader worker), as in mmcv's transforms.
"""
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from salbox.registry import TRANSFORMS
from salbox.structures import PRIOR_KEY

MASK_KEY = 'gt_sal_map'
MAP_KEYS = (MASK_KEY, PRIOR_KEY)

# ``nearest`` for resizing is OpenCV's exact (pixel-centre) variant, which matches PIL's NEAREST.
_RESIZE_INTERP = dict(nearest=cv2.INTER_NEAREST_EXACT, bilinear=cv2.INTER_LINEAR,
                      bicubic=cv2.INTER_CUBIC, area=cv2.INTER_AREA)
_WARP_INTERP = dict(nearest=cv2.INTER_NEAREST, bilinear=cv2.INTER_LINEAR,
                    bicubic=cv2.INTER_CUBIC)


def _interp(table: dict, name: str) -> int:
    if name not in table:
        raise ValueError(f'unknown interpolation {name!r}; choose from {sorted(table)}')
    return table[name]


def _pair(size: Union[int, Sequence[int]], what: str) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f'{what} must be an int or two positive ints, got {size!r}')
    return int(size[0]), int(size[1])


def _resize(arr: np.ndarray, width: int, height: int, interpolation: int) -> np.ndarray:
    return cv2.resize(arr, (width, height), interpolation=interpolation)


def _maps(results: dict, mask_interpolation: Optional[int] = None):
    """(key, interpolation) of every map present: masks with ``mask_interpolation``, priors
    bilinear."""
    for key in MAP_KEYS:
        if results.get(key) is not None:
            yield key, (mask_interpolation if key == MASK_KEY else cv2.INTER_LINEAR)


def _crop_all(results: dict, top: int, left: int, height: int, width: int) -> None:
    """Crop the image and every map to the same window."""
    for key in ('img', ) + tuple(k for k, _ in _maps(results)):
        results[key] = np.ascontiguousarray(
            results[key][top:top + height, left:left + width])
    results['img_shape'] = results['img'].shape[:2]


@TRANSFORMS.register_module()
class RandomCropOrResize(BaseTransform):
    """R3Net's ``joint_transforms.RandomCrop(300)`` (padding 0).

    A uniform random ``size`` crop of image and mask; when either side is smaller than the
    crop, both are resized to exactly ``size`` instead (official code: PIL BILINEAR for the
    image, NEAREST for the mask), and an image already of that size is left as is.

    Args:
        size (int | tuple[int, int]): crop (height, width). Default 300 (official code).
        img_interpolation (str): for the resize case. Default 'bilinear' (official code).
        mask_interpolation (str): for the resize case. Default 'nearest' (official code).
    """

    def __init__(self, size: Union[int, Sequence[int]] = 300,
                 img_interpolation: str = 'bilinear',
                 mask_interpolation: str = 'nearest') -> None:
        self.size = _pair(size, 'size')
        self.img_interpolation = _interp(_RESIZE_INTERP, img_interpolation)
        self.mask_interpolation = _interp(_RESIZE_INTERP, mask_interpolation)

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        th, tw = self.size
        if (height, width) == (th, tw):
            return results
        if height < th or width < tw:
            results['img'] = _resize(img, tw, th, self.img_interpolation)
            for key, interpolation in _maps(results, self.mask_interpolation):
                results[key] = _resize(results[key], tw, th, interpolation)
            results['img_shape'] = results['img'].shape[:2]
        else:
            top = np.random.randint(0, height - th + 1)
            left = np.random.randint(0, width - tw + 1)
            _crop_all(results, top, left, th, tw)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size})'


@TRANSFORMS.register_module()
class RandomRelativeCrop(BaseTransform):
    """A random crop whose sides are each a uniform fraction in [``min_scale``, 1] of the
    image's, at a uniform position, applied alike to the image and every map.

    Not in LDPS's official recipe (its flip is commented out and it has no crop). An option of
    the MI promoter's label-free fit for priors that do not depend on the image, such as the
    centre prior: without it the relation network can fit such a prior from position alone
    (zero padding tells a CNN where the border is); cropping moves the prior's peak around the
    frame, so only appearance can explain it (``configs/mi_promoter/README.md``).

    Args:
        min_scale (float): smallest side fraction, in (0, 1]. 1 leaves every sample as it is.
    """

    def __init__(self, min_scale: float = 0.5) -> None:
        if not 0.0 < min_scale <= 1.0:
            raise ValueError(f'RandomRelativeCrop: min_scale must be in (0, 1], got {min_scale}')
        self.min_scale = float(min_scale)

    def transform(self, results: dict) -> dict:
        if self.min_scale == 1.0:
            return results
        height, width = results['img'].shape[:2]
        crop_h = max(1, round(height * np.random.uniform(self.min_scale, 1.0)))
        crop_w = max(1, round(width * np.random.uniform(self.min_scale, 1.0)))
        top = np.random.randint(0, height - crop_h + 1)
        left = np.random.randint(0, width - crop_w + 1)
        _crop_all(results, top, left, crop_h, crop_w)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(min_scale={self.min_scale})'


@TRANSFORMS.register_module()
class RandomFlip(BaseTransform):
    """Flip image and maps together with probability ``prob`` (R3Net's
    ``RandomHorizontallyFlip``: horizontal, p=0.5). Sets ``flip`` and ``flip_direction``.

    Args:
        prob (float): flip probability. Default 0.5 (official code).
        direction (str | list[str]): 'horizontal', 'vertical' or 'diagonal'; with a list one
            is drawn uniformly per sample. Default 'horizontal' (official code).
    """
    _AXES = dict(horizontal=(1, ), vertical=(0, ), diagonal=(0, 1))

    def __init__(self, prob: float = 0.5,
                 direction: Union[str, Sequence[str]] = 'horizontal') -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        directions = [direction] if isinstance(direction, str) else list(direction)
        for d in directions:
            if d not in self._AXES:
                raise ValueError(f'unknown flip direction {d!r}; choose from {list(self._AXES)}')
        self.prob = prob
        self.directions = directions

    def transform(self, results: dict) -> dict:
        flip = np.random.rand() < self.prob
        direction: Optional[str] = None
        if flip:
            direction = self.directions[np.random.randint(len(self.directions))] \
                if len(self.directions) > 1 else self.directions[0]
            axes = self._AXES[direction]
            for key in ('img', ) + tuple(k for k, _ in _maps(results)):
                results[key] = np.ascontiguousarray(np.flip(results[key], axis=axes))
        results['flip'] = bool(flip)
        results['flip_direction'] = direction
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, direction={self.directions})'


@TRANSFORMS.register_module()
class RandomRotate(BaseTransform):
    """Rotate image and mask by one angle drawn uniformly from [-max_angle, max_angle] degrees
    (R3Net's ``RandomRotate(10)``: PIL ``rotate``, counter-clockwise for positive angles, about
    the image centre, same size (expand=False), black fill, bilinear image, nearest mask).

    Args:
        max_angle (float): Default 10 (official code).
        prob (float): probability of rotating at all. Default 1.0 (official code rotates always).
        img_interpolation (str): Default 'bilinear' (official code).
        mask_interpolation (str): Default 'nearest' (official code).
        pad_val (float): fill for the image corners. Default 0 (official code).
        mask_pad_val (float): fill for the mask corners. Default 0 (official code).
    """

    def __init__(self, max_angle: float = 10.0, prob: float = 1.0,
                 img_interpolation: str = 'bilinear', mask_interpolation: str = 'nearest',
                 pad_val: float = 0.0, mask_pad_val: float = 0.0) -> None:
        if max_angle < 0:
            raise ValueError(f'max_angle must be >= 0, got {max_angle}')
        self.max_angle = float(max_angle)
        self.prob = prob
        self.img_interpolation = _interp(_WARP_INTERP, img_interpolation)
        self.mask_interpolation = _interp(_WARP_INTERP, mask_interpolation)
        self.pad_val = pad_val
        self.mask_pad_val = mask_pad_val

    @staticmethod
    def rotation_matrix(height: int, width: int, angle: float) -> np.ndarray:
        """2x3 matrix rotating by ``angle`` degrees counter-clockwise about the image centre
        (pixel-centre coordinates, as PIL's ``rotate``)."""
        return cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), angle, 1.0)

    def transform(self, results: dict) -> dict:
        if self.prob < 1.0 and np.random.rand() >= self.prob:
            return results
        angle = float(np.random.uniform(-self.max_angle, self.max_angle))
        img = results['img']
        height, width = img.shape[:2]
        matrix = self.rotation_matrix(height, width, angle)
        channels = img.shape[2] if img.ndim == 3 else 1
        results['img'] = cv2.warpAffine(img, matrix, (width, height), flags=self.img_interpolation,
                                        borderMode=cv2.BORDER_CONSTANT,
                                        borderValue=(self.pad_val, ) * min(channels, 4))
        for key, interpolation in _maps(results, self.mask_interpolation):
            results[key] = cv2.warpAffine(results[key], matrix, (width, height),
                                          flags=interpolation, borderMode=cv2.BORDER_CONSTANT,
                                          borderValue=self.mask_pad_val)
        results['rotate_angle'] = angle
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(max_angle={self.max_angle}, prob={self.prob})'


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize the image, and the mask if present, to ``scale`` (mmcv ``Resize`` conventions:
    ``scale=(width, height)``; with ``keep_ratio`` the image is rescaled to fit inside it, long
    edge <= max(scale), short edge <= min(scale)). Sets ``img_shape``, ``scale_factor``
    (w, h) and ``keep_ratio``.

    In test pipelines put ``LoadSalAnnotation`` after this, so the ground truth keeps its
    original size (salbox convention).

    Args:
        scale (int | tuple[int, int]): target (width, height).
        scale_factor (float, optional): instead of ``scale``: multiply both sides by this
            (rounded; used by multi-scale test-time augmentation). Give one of the two.
        keep_ratio (bool): Default False.
        img_interpolation (str): Default 'bilinear' (chosen, as mmcv).
        mask_interpolation (str): Default 'bilinear' (chosen: keeps soft masks soft).
    """

    def __init__(self, scale: Union[None, int, Sequence[int]] = None, keep_ratio: bool = False,
                 img_interpolation: str = 'bilinear',
                 mask_interpolation: str = 'bilinear',
                 scale_factor: Optional[float] = None) -> None:
        if (scale is None) == (scale_factor is None):
            raise ValueError('Resize: give exactly one of scale and scale_factor')
        if scale_factor is not None and not scale_factor > 0:
            raise ValueError(f'Resize: scale_factor must be > 0, got {scale_factor}')
        self.scale = None if scale is None else _pair(scale, 'scale')
        self.factor = None if scale_factor is None else float(scale_factor)
        self.keep_ratio = keep_ratio
        self.img_interpolation = _interp(_RESIZE_INTERP, img_interpolation)
        self.mask_interpolation = _interp(_RESIZE_INTERP, mask_interpolation)

    def target_size(self, height: int, width: int) -> Tuple[int, int]:
        """(width, height) of the output for an input of ``height`` x ``width``."""
        if self.factor is not None:
            return (max(1, int(width * self.factor + 0.5)),
                    max(1, int(height * self.factor + 0.5)))
        if not self.keep_ratio:
            return self.scale
        factor = min(max(self.scale) / max(height, width), min(self.scale) / min(height, width))
        return max(1, int(width * factor + 0.5)), max(1, int(height * factor + 0.5))

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        new_w, new_h = self.target_size(height, width)
        results['img'] = _resize(img, new_w, new_h, self.img_interpolation)
        for key, interpolation in _maps(results, self.mask_interpolation):
            results[key] = _resize(results[key], new_w, new_h, interpolation)
        results['img_shape'] = (new_h, new_w)
        results['scale_factor'] = (new_w / width, new_h / height)
        results['keep_ratio'] = self.keep_ratio
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, scale_factor={self.factor}, '
                f'keep_ratio={self.keep_ratio})')
