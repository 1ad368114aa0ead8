"""What every salbox detector shares: mode dispatch, the padding mask for the loss, and the one
post-processing path from logits at the input size to ``pred_sal_map`` at the original size."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData

from salbox.registry import MODELS
from salbox.structures import SalDataSample, original_image

FLIP_DIMS = {'horizontal': (-1,), 'vertical': (-2,), 'diagonal': (-2, -1)}


def unflip(maps: torch.Tensor, direction: str) -> torch.Tensor:
    """Undo a ``RandomFlip`` of ``direction`` on (..., H, W) maps (a flip is its own inverse)."""
    if direction not in FLIP_DIMS:
        raise ValueError(f'unknown flip_direction {direction!r}: expected one of '
                         f'{sorted(FLIP_DIMS)}')
    return maps.flip(FLIP_DIMS[direction])


class ModeDispatch:
    """``forward(inputs, data_samples, mode)`` -> ``loss`` / ``predict`` / ``_forward``, as
    MMSeg's ``BaseSegmentor.forward``; the detectors and the MI promoter share it."""

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}": expected "loss", "predict" or "tensor"')


class BaseSalDetector(ModeDispatch, BaseModel):
    """Base of every salbox detector.

    ``forward(mode)`` dispatches to ``loss`` / ``predict`` / ``_forward`` (MMSeg's
    ``BaseSegmentor``); subclasses implement those three and end ``predict`` with
    :meth:`postprocess_result`, the one place where logits become ``pred_sal_map``.

    Args:
        data_preprocessor: config or module (default ``SalDataPreProcessor`` with ImageNet
            statistics).
        postprocessors: test-time map-to-map steps (``BasePostProcessor`` configs, e.g.
            ``DenseCRF``), run in order on (original RGB image, map) after the sigmoid.
        align_corners: for the resize of logits to the original size.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 data_preprocessor=None,
                 postprocessors: Optional[Sequence[dict]] = None,
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='SalDataPreProcessor')
        if isinstance(data_preprocessor, dict):  # build from salbox's registry, any scope
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.postprocessors = nn.ModuleList(
            p if isinstance(p, nn.Module) else MODELS.build(p) for p in (postprocessors or []))
        self.align_corners = bool(align_corners)
        # SalTTAModel switches this off while it predicts the views, then post-processes once.
        self.run_postprocessors = True

    def final_logits(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        """The prediction's logit map (N, 1, H, W) at the input size (the last ``_forward``
        output; detectors override it when they can skip the other outputs)."""
        return self._forward(inputs, data_samples)[-1]

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[SalDataSample]] = None) -> List[SalDataSample]:
        """Final logits at the input size -> :meth:`postprocess_result`."""
        return self.postprocess_result(self.final_logits(inputs, data_samples),
                                       self.default_samples(inputs, data_samples))

    # ------------------------------------------------------------------ shared helpers
    @staticmethod
    def default_samples(inputs: torch.Tensor,
                        data_samples: Optional[Sequence[SalDataSample]]) -> List[SalDataSample]:
        """``data_samples``, or plain samples whose original size is the input size."""
        if data_samples is not None:
            return list(data_samples)
        size = tuple(inputs.shape[-2:])
        return [SalDataSample(metainfo=dict(ori_shape=size, img_shape=size))
                for _ in range(inputs.shape[0])]

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

    # ------------------------------------------------------------------ post-processing
    def logits_at_original_size(self, logits: torch.Tensor,
                                sample: SalDataSample) -> torch.Tensor:
        """One sample's logits (1, H, W) at the padded input size -> crop the batch padding
        (``img_shape``) -> bilinear resize to ``ori_shape`` -> undo the pipeline's flip."""
        h, w = tuple(sample.metainfo.get('img_shape', logits.shape[-2:]))[:2]
        logit = logits[None, :, :h, :w]
        ori_shape: Tuple[int, int] = tuple(sample.metainfo.get('ori_shape', (h, w)))[:2]
        if tuple(logit.shape[-2:]) != ori_shape:
            logit = F.interpolate(logit, size=ori_shape, mode='bilinear',
                                  align_corners=self.align_corners)
        logit = logit[0]
        if sample.metainfo.get('flip', False):
            logit = unflip(logit, sample.metainfo.get('flip_direction', 'horizontal'))
        return logit

    def postprocess_map(self, logit: torch.Tensor, sal_map: torch.Tensor, sample: SalDataSample
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Everything after the sigmoid, for one sample at the original size: ``(logit, map)``
        -> ``(logit, map)`` after this detector's post-processors. ``SalTTAModel`` calls it once
        on the merged map; two-stage detectors put their refiner here."""
        return logit, self.apply_postprocessors(sal_map, sample)

    def apply_postprocessors(self, sal_map: torch.Tensor, sample: SalDataSample) -> torch.Tensor:
        """Run this detector's post-processors in order on the sample's original RGB image
        (``sample.ori_img``) and the map."""
        if len(self.postprocessors) == 0:
            return sal_map
        image = original_image(sample).to(sal_map.device)
        for postprocessor in self.postprocessors:
            sal_map = postprocessor.postprocess(image, sal_map)
        return sal_map

    def postprocess_result(self, logits: torch.Tensor,
                           data_samples: Sequence[SalDataSample]) -> List[SalDataSample]:
        """Logits (N, 1, H, W) at the padded input size -> per sample: crop the padding, resize
        to the original size, un-flip, sigmoid, post-processors in order -> ``sal_logits`` and
        ``pred_sal_map`` (1, H, W) in [0, 1] at the original size.

        Modelled on ``BaseSegmentor.postprocess_result`` (``mmseg/models/segmentors/base.py``),
        with one sigmoid map instead of a softmax and salbox's post-processors after it."""
        if logits.dim() != 4 or logits.shape[1] != 1:
            raise ValueError(f'{type(self).__name__}: postprocess_result expects logits '
                             f'(N, 1, H, W), got {tuple(logits.shape)}')
        for i, sample in enumerate(data_samples):
            logit = self.logits_at_original_size(logits[i], sample)
            sal_map = logit.sigmoid()
            if getattr(self, 'run_postprocessors', True):  # SalTTAModel: once, after the merge
                logit, sal_map = self.postprocess_map(logit, sal_map, sample)
            sample.sal_logits = PixelData(data=logit)
            sample.pred_sal_map = PixelData(data=sal_map.clamp(0, 1))
        return list(data_samples)
