"""SalDataPreProcessor: the one place where images become normalised RGB float batches.

Follows ``mmseg/models/data_preprocessor.py`` (SegDataPreProcessor): cast to the model's device,
BGR -> RGB once (images are loaded BGR by cv2), ``(x - mean) / std``, then stack. Images of
different sizes are padded at the bottom/right to a common size (optionally rounded up to
``size_divisor``); the ground-truth maps are padded the same way so they stay aligned, and each
sample records ``img_shape`` (before padding) and ``pad_shape`` so ``predict()`` can crop the
padding away. Default mean/std are ImageNet's in 0-255 units, as R3Net's official code
normalises (zijundeng/R3Net ``train.py``, ``infer.py``). ``scale_by_max=True`` first rescales
each image so that its maximum is 255, as U²-Net's official ``ToTensorLab(flag=0)`` divides by
the image maximum before the ImageNet mean/std (xuebinqin/U-2-Net ``data_loader.py``).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from salbox.registry import MODELS


def _padded_size(sizes, size_divisor: Optional[int]):
    height = max(h for h, _ in sizes)
    width = max(w for _, w in sizes)
    if size_divisor:
        height = -(-height // size_divisor) * size_divisor
        width = -(-width // size_divisor) * size_divisor
    return height, width


def scale_to_max(images: torch.Tensor) -> torch.Tensor:
    """Images (..., 3, H, W) rescaled so that each one's maximum is 255 (U²-Net's
    ``image / np.max(image)`` in 0-255 units); all-zero images are left at zero."""
    peak = images.amax(dim=(-3, -2, -1), keepdim=True)
    return images * (255.0 / peak.clamp(min=1e-6))


@MODELS.register_module()
class SalDataPreProcessor(BaseDataPreprocessor):
    """Normalise, convert BGR to RGB and stack (with padding) a batch of images and masks.

    Args:
        mean, std: per-channel statistics in the image's value range (0-255), applied after the
            BGR -> RGB conversion. ``None`` skips normalisation.
        bgr_to_rgb: convert loaded BGR images to RGB (True for cv2-loaded images).
        size_divisor: pad each batch to a multiple of this (``None``: no rounding).
        pad_val: value for padded image pixels (after normalisation).
        gt_pad_val: value for padded ground-truth pixels.
        scale_by_max: multiply each image by ``255 / max`` (its maximum over all pixels and
            channels, after the pipeline's resize) before ``(x - mean) / std``: U²-Net's
            ``image / np.max(image)`` with mean and std kept in 0-255 units. An all-black image
            stays black (the official code divides by zero there). Default False.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = (123.675, 116.28, 103.53),
                 std: Optional[Sequence[float]] = (58.395, 57.12, 57.375),
                 bgr_to_rgb: bool = True,
                 size_divisor: Optional[int] = None,
                 pad_val: float = 0.0,
                 gt_pad_val: float = 0.0,
                 scale_by_max: bool = False):
        super().__init__()
        self.normalize = mean is not None
        if self.normalize:
            if std is None or len(mean) != 3 or len(std) != 3:
                raise ValueError('SalDataPreProcessor: mean and std must both be given, '
                                 f'with 3 values each (got mean={mean}, std={std})')
            self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
            self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.gt_pad_val = gt_pad_val
        self.scale_by_max = bool(scale_by_max)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
            inputs = list(inputs)
        images = [self._normalise(img) for img in inputs]
        sizes = [tuple(img.shape[-2:]) for img in images]
        pad_h, pad_w = _padded_size(sizes, self.size_divisor)
        batch = torch.stack([
            F.pad(img, (0, pad_w - img.shape[-1], 0, pad_h - img.shape[-2]), value=self.pad_val)
            for img in images])
        if data_samples is not None:
            for sample, (h, w) in zip(data_samples, sizes):
                sample.set_metainfo(dict(img_shape=(h, w), pad_shape=(pad_h, pad_w)))
                if training and 'gt_sal_map' in sample:
                    gt = sample.gt_sal_map.data
                    if tuple(gt.shape[-2:]) != (h, w):
                        raise ValueError(
                            f'{sample.metainfo.get("gt_path", "ground truth")}: mask size '
                            f'{tuple(gt.shape[-2:])} differs from the image size {(h, w)} '
                            f'({sample.metainfo.get("img_path", "image")}) after the pipeline')
                    sample.gt_sal_map = PixelData(data=F.pad(
                        gt, (0, pad_w - w, 0, pad_h - h), value=self.gt_pad_val))
        return dict(inputs=batch, data_samples=data_samples)

    def denormalize(self, batch: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`forward` on a (N, 3, H, W) batch: float RGB in the 0-255 range (with
        ``scale_by_max``, the image as rescaled to a maximum of 255)."""
        images = batch
        if self.normalize:
            images = images * self.std + self.mean
        if not self.bgr_to_rgb:  # the batch is still BGR
            images = images.flip(1)
        return images

    def _normalise(self, img: torch.Tensor) -> torch.Tensor:
        if img.dim() != 3 or img.shape[0] != 3:
            raise ValueError(f'SalDataPreProcessor expects (3, H, W) images, got {tuple(img.shape)}')
        if self.bgr_to_rgb:
            img = img.flip(0)
        img = img.float()
        if self.scale_by_max:
            img = scale_to_max(img)
        if self.normalize:
            img = (img - self.mean) / self.std
        return img
