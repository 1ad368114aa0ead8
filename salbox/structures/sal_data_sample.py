"""SalDataSample: the one data structure that travels from the pipeline to the metric.

Follows ``mmseg/structures/seg_data_sample.py`` (typed ``PixelData`` fields on a
``BaseDataElement``), but keeps saliency as a float map in [0, 1] of shape (1, H, W):
ground truth is never cast to integer labels, because soft masks (MSRA10K) are real.
"""
import torch
from mmengine.structures import BaseDataElement, PixelData

from salbox.utils.errors import SalboxError

# The field that carries a first stage's map (a two-stage detector's, the MI promoter's prior);
# the geometric transforms move it with the image.
PRIOR_KEY = 'prior_sal_map'


class SalDataSample(BaseDataElement):
    """A sample's saliency maps, its original image and meta information.

    Fields:
        gt_sal_map (PixelData): ``data`` is a float32 tensor (1, H, W) in [0, 1].
        pred_sal_map (PixelData): ``data`` is a float32 tensor (1, H, W) in [0, 1] at the
            original image size, after any refiner and post-processors.
        sal_logits (PixelData): the raw logits before sigmoid at the original size (for a
            two-stage detector: the refined stage's).
        prior_sal_map (PixelData): two-stage detectors only: the first stage's map.
        ori_img (PixelData): ``data`` is the decoded image as a uint8 tensor (3, H, W) in RGB
            order at the original size (``ori_shape``), packed by
            ``PackSalInputs(keep_ori_img=True)``. Post-processors, visualisation and
            ``tools/infer.py`` read the image from here; nothing reads the file twice. Use
            :func:`original_image` to get it with a clear error when it is missing.

    Meta keys in common use: ``img_path``, ``gt_path``, ``dataset_name``, ``ori_shape``,
    ``img_shape``, ``flip``, ``flip_direction``.
    """

    @property
    def gt_sal_map(self) -> PixelData:
        return self._gt_sal_map

    @gt_sal_map.setter
    def gt_sal_map(self, value: PixelData) -> None:
        self.set_field(value, '_gt_sal_map', dtype=PixelData)

    @gt_sal_map.deleter
    def gt_sal_map(self) -> None:
        del self._gt_sal_map

    @property
    def pred_sal_map(self) -> PixelData:
        return self._pred_sal_map

    @pred_sal_map.setter
    def pred_sal_map(self, value: PixelData) -> None:
        self.set_field(value, '_pred_sal_map', dtype=PixelData)

    @pred_sal_map.deleter
    def pred_sal_map(self) -> None:
        del self._pred_sal_map

    @property
    def sal_logits(self) -> PixelData:
        return self._sal_logits

    @sal_logits.setter
    def sal_logits(self, value: PixelData) -> None:
        self.set_field(value, '_sal_logits', dtype=PixelData)

    @sal_logits.deleter
    def sal_logits(self) -> None:
        del self._sal_logits

    @property
    def ori_img(self) -> PixelData:
        return self._ori_img

    @ori_img.setter
    def ori_img(self, value: PixelData) -> None:
        self.set_field(value, '_ori_img', dtype=PixelData)

    @ori_img.deleter
    def ori_img(self) -> None:
        del self._ori_img


def original_image(sample: SalDataSample) -> torch.Tensor:
    """The sample's original image: uint8 RGB tensor (3, H, W) at ``ori_shape``.

    Raises ``SalboxError`` when the sample does not carry it (the test pipeline must pack it)."""
    if 'ori_img' not in sample:
        where = sample.metainfo.get('img_path') or 'an in-memory image'
        raise SalboxError(
            f'the data sample of {where} carries no original image: add keep_ori_img=True to '
            'PackSalInputs in the test pipeline (dict(type="PackSalInputs", keep_ori_img=True))')
    image = sample.ori_img.data
    if image.dim() != 3 or image.shape[0] != 3 or image.dtype != torch.uint8:
        raise SalboxError(f'ori_img must be a uint8 (3, H, W) RGB tensor, got {image.dtype} '
                          f'{tuple(image.shape)}')
    return image
