"""SaliencyDetector: backbone -> (neck) -> head with deep supervision, then post-processors.

The data flow follows MMSegmentation's ``EncoderDecoder`` (``mmseg/models/segmentors/
encoder_decoder.py``): ``forward(mode)`` dispatches to ``loss`` / ``predict`` / ``_forward``.
Differences for SOD (docs/config.md, "Data flow"): the head returns a *list* of single-channel
logit maps (deep supervision), every one is resized to the mask and scored; the sigmoid happens
once, in :meth:`BaseSalDetector.postprocess_result`; maps stay float in [0, 1]; post-processors
see the original RGB image (carried in the sample) and the map at the original size.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F

from salbox.registry import MODELS
from salbox.structures import SalDataSample
from .base import BaseSalDetector
from .inference_modes import check_test_cfg, check_train_cfg, slide_logits


@MODELS.register_module()
class SaliencyDetector(BaseSalDetector):
    """A single-stage saliency detector.

    Args:
        backbone, neck, head: config dicts of the three parts (``neck`` may be ``None``). The head
            returns a list of logit maps (N, 1, h, w); the last is the prediction.
        loss: the deep-supervision loss (default: unit-weight BCE on every output, as R3Net).
        postprocessors: test-time map-to-map steps (``BasePostProcessor``, e.g. ``DenseCRF``
            or a trained refiner in ``RefinerPostProcessor``), run in order on (original image,
            map).
        align_corners: for every logit resize; defaults to the head's ``align_corners``
            attribute when it has one (R3Net upsamples with ``align_corners=True``), else False.
        data_preprocessor: defaults to ``SalDataPreProcessor`` with ImageNet statistics.
        test_cfg: ``dict(mode='whole')`` (default) or ``dict(mode='slide', crop_size=(h, w),
            stride=(h, w))``, sliding-window inference as MMSeg's (inference_modes.py); other
            keys are refused.
        train_cfg: read by no salbox detector; a non-empty one is refused.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = None,
                 loss: Optional[dict] = None,
                 postprocessors: Optional[Sequence[dict]] = None,
                 align_corners: Optional[bool] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, postprocessors=postprocessors,
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head)
        self.loss_module = MODELS.build(loss or dict(type='DeepSupervisionBCELoss'))
        if align_corners is None:
            align_corners = bool(getattr(self.head, 'align_corners', False))
        self.align_corners = align_corners
        check_train_cfg(train_cfg, type(self).__name__)
        self.test_cfg = check_test_cfg(test_cfg, type(self).__name__)

    # ------------------------------------------------------------------ features and logits
    def extract_feat(self, inputs: torch.Tensor):
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    def head_logits(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        """The head's raw logit maps at the head's own resolution."""
        logits = self.head(self.extract_feat(inputs))
        if isinstance(logits, torch.Tensor):
            logits = [logits]
        return list(logits)

    def _resize(self, logit: torch.Tensor, size) -> torch.Tensor:
        if tuple(logit.shape[-2:]) == tuple(size):
            return logit
        return F.interpolate(logit, size=size, mode='bilinear', align_corners=self.align_corners)

    def final_logits(self, inputs: torch.Tensor, data_samples=None) -> torch.Tensor:
        """The prediction's logit map (N, 1, H, W) at the input size: one pass, or the average
        over sliding windows with ``test_cfg=dict(mode='slide', ...)`` (inference_modes.py)."""
        def whole(images: torch.Tensor) -> torch.Tensor:
            return self._resize(self.head_logits(images)[-1], images.shape[-2:])
        if self.test_cfg['mode'] == 'slide':
            return slide_logits(whole, inputs, self.test_cfg['crop_size'],
                                self.test_cfg['stride'])
        return whole(inputs)

    def _forward(self, inputs: torch.Tensor, data_samples=None) -> List[torch.Tensor]:
        """All logit maps upsampled to the input size (R3Net's training-mode outputs)."""
        return [self._resize(logit, inputs.shape[-2:]) for logit in self.head_logits(inputs)]

    # ------------------------------------------------------------------ modes
    def loss(self, inputs: torch.Tensor, data_samples: Sequence[SalDataSample]) -> Dict:
        """Every output, resized to the (padded) mask size, scored against the mask."""
        target = self.ground_truth(data_samples, inputs.dtype)
        logits = [self._resize(logit, target.shape[-2:]) for logit in self.head_logits(inputs)]
        return self.loss_module(logits, target, self.padding_mask(data_samples, target))

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[SalDataSample]] = None) -> List[SalDataSample]:
        """Last logit map at the input size -> :meth:`postprocess_result` (crop padding, resize
        to the original size, un-flip, sigmoid, post-processors) -> ``pred_sal_map``."""
        return self.postprocess_result(self.final_logits(inputs),
                                       self.default_samples(inputs, data_samples))
