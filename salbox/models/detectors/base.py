"""What every salbox detector shares: mode dispatch, the padding mask for the loss, and the
recovery of the original RGB image that refiners and post-processors see."""
from typing import Optional, Sequence

import cv2
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from salbox.structures import SalDataSample


class BaseSalDetector(BaseModel):
    """``forward(mode)`` dispatches to ``loss`` / ``predict`` / ``_forward`` (MMSeg's
    ``BaseSegmentor``); subclasses implement those three."""

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}": expected "loss", "predict" or "tensor"')

    def final_logits(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        """The prediction's logit map (N, 1, H, W) at the input size (the last ``_forward``
        output; detectors override it when they can skip the other outputs)."""
        return self._forward(inputs, data_samples)[-1]

    @staticmethod
    def ground_truth(data_samples: Sequence[SalDataSample], dtype) -> torch.Tensor:
        """The (padded) masks as one (N, 1, H, W) tensor, with a clear error when missing."""
        if not data_samples or any('gt_sal_map' not in s for s in data_samples):
            raise ValueError('training needs data samples with gt_sal_map '
                             '(is LoadSalAnnotation in the train pipeline?)')
        return torch.stack([s.gt_sal_map.data for s in data_samples]).to(dtype)

    @staticmethod
    def padding_mask(data_samples, target: torch.Tensor) -> Optional[torch.Tensor]:
        """1 on real pixels, 0 on batch padding (None when nothing was padded)."""
        shapes = [s.metainfo.get('img_shape', target.shape[-2:]) for s in data_samples]
        if all(tuple(shape) == tuple(target.shape[-2:]) for shape in shapes):
            return None
        mask = torch.zeros_like(target)
        for i, (h, w) in enumerate(shapes):
            mask[i, :, :h, :w] = 1
        return mask

    def original_rgb(self, normalised: torch.Tensor, sample: SalDataSample,
                     ori_shape) -> torch.Tensor:
        """The original RGB uint8 image (3, H, W) for refiners and post-processors: read from
        ``img_path`` when there is one, otherwise the input with the preprocessor undone,
        cropped to ``img_shape`` and resized to ``ori_shape``."""
        path = sample.metainfo.get('img_path')
        if path:
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is None:
                raise FileNotFoundError(f'cannot read image {path} for post-processing')
            if bgr.shape[:2] == tuple(ori_shape):
                rgb = torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1)
                return rgb.to(normalised.device)
        h, w = sample.metainfo.get('img_shape', normalised.shape[-2:])
        image = self.data_preprocessor.denormalize(normalised[None, :, :h, :w])
        image = F.interpolate(image, size=tuple(ori_shape), mode='bilinear', align_corners=False)
        return image[0].round().clamp(0, 255).to(torch.uint8)
