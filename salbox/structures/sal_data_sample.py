"""SalDataSample: the one data structure that travels from the pipeline to the metric.

Follows ``mmseg/structures/seg_data_sample.py`` (typed ``PixelData`` fields on a
``BaseDataElement``), but keeps saliency as a float map in [0, 1] of shape (1, H, W):
ground truth is never cast to integer labels, because soft masks (MSRA10K) are real.
"""
from mmengine.structures import BaseDataElement, PixelData


class SalDataSample(BaseDataElement):
    """A sample's saliency maps and meta information.

    Fields:
        gt_sal_map (PixelData): ``data`` is a float32 tensor (1, H, W) in [0, 1].
        pred_sal_map (PixelData): ``data`` is a float32 tensor (1, H, W) in [0, 1] at the
            original image size, after any refiner and post-processors.
        sal_logits (PixelData): the raw logits before sigmoid at the original size.

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
