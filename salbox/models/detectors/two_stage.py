"""RefinedDetector: a frozen first-stage detector followed by a trainable refiner.

DGRL (Wang et al., CVPR 2018, Sec. 3.3-4.1; official code ``stage1``/``stage2``) trains its two
networks separately: the RLN first, then the BRN on the RLN's (fixed) maps. This wrapper does the
second step for any salbox detector and any refiner of the second-stage contract
(:class:`~salbox.models.refiners.BaseRefiner`): ``forward(images, priors) -> logits`` to train,
``refine(image, prior) -> (logits, map)`` to test (e.g.
:class:`~salbox.models.refiners.BoundaryRefinementNet`). Nothing else of the refiner is used; of
the first stage, only its detector methods (``final_logits``, ``postprocess_map``).
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.runner import load_checkpoint
from mmengine.structures import PixelData

from salbox.registry import MODELS
from salbox.structures import SalDataSample, original_image
from .base import BaseSalDetector
from .inference_modes import check_test_cfg, check_train_cfg


@MODELS.register_module()
class RefinedDetector(BaseSalDetector):
    """A frozen first stage (any salbox detector) + a trainable refiner.

    * Training (``loss``): the first stage predicts a map at the input size without gradients
      (in eval mode, always, even when the wrapper is in train mode); the refiner gets the RGB
      image and that map and is trained against the ground truth (BCE with logits; DGRL's
      2-class softmax loss on the refined output only, official ``stage2`` prototxt).
    * Test (``predict``): the first stage's logits at the input size go through the shared
      :meth:`postprocess_result`: crop, resize to the original size and un-flip, sigmoid, then
      :meth:`postprocess_map`: the first stage's own ``postprocess_map`` (its post-processors)
      gives ``prior_sal_map``, ``refiner.refine(original image, prior)`` refines it (the BRN
      resizes to its own test size itself), and this wrapper's ``postprocessors`` follow;
      ``sal_logits`` are the refined logits. Under ``SalTTAModel`` the views' first-stage maps
      are averaged and this whole chain runs once, on the merged map.
    * Weights: ``first_stage_checkpoint`` is loaded by :meth:`init_weights` (which the Runner
      calls before training only). The wrapper's state dict holds both stages, so its own
      checkpoint is all ``tools/test.py`` needs.

    Args:
        first_stage: config of any salbox detector (e.g. an RLN ``SaliencyDetector``).
        refiner: config of the trainable refiner.
        first_stage_checkpoint: checkpoint of the first stage alone (a Runner checkpoint of the
            first-stage config). Required for training unless the first stage has no parameters.
        first_stage_input_size: (h, w) at which the first stage runs during training; inputs
            are bilinearly resized to it and its map back to the input size (DGRL: the RLN runs
            at 384 while the BRN trains at 480). ``None``: the input size. At test time the
            first stage sees the test pipeline's size, so give it the first stage's test size.
        refiner_crop_size: train the refiner on one random (s, s) window per sample of the
            image, the first-stage map (computed on the whole input) and the mask, instead of
            the whole input. For a refiner whose output depends only on a small neighbourhood
            (the BRN: seven 3x3 convs and a 5x5 window, a 19x19 footprint), this cuts the
            training cost by (input / s)^2 with the same kind of gradients; only a band of
            about 9 pixels along the window's edges sees zero padding where the whole input
            has pixels. ``None`` (default, official DGRL): the whole input.
        loss: the refiner's loss (default BCE with logits, key ``loss_refine_0``).
        postprocessors: test-time steps after the refiner (``BasePostProcessor`` configs).
        data_preprocessor: default: the first stage's, so it sees what it was trained with.
    """

    def __init__(self,
                 first_stage: dict,
                 refiner: dict,
                 first_stage_checkpoint: Optional[str] = None,
                 first_stage_input_size: Optional[Sequence[int]] = None,
                 refiner_crop_size: Optional[int] = None,
                 loss: Optional[dict] = None,
                 postprocessors: Optional[Sequence[dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        first_stage = copy.deepcopy(first_stage)
        if data_preprocessor is None:
            data_preprocessor = copy.deepcopy(
                first_stage.get('data_preprocessor') or dict(type='SalDataPreProcessor'))
        super().__init__(data_preprocessor=data_preprocessor, postprocessors=postprocessors,
                         init_cfg=init_cfg)
        self.first_stage = MODELS.build(first_stage)
        self.align_corners = bool(getattr(self.first_stage, 'align_corners', False))
        self.first_stage.requires_grad_(False)
        self.first_stage.eval()
        self.first_stage_checkpoint = first_stage_checkpoint
        self.first_stage_input_size: Optional[Tuple[int, int]] = (
            None if first_stage_input_size is None else
            (int(first_stage_input_size[0]), int(first_stage_input_size[1])))
        if refiner_crop_size is not None and int(refiner_crop_size) < 1:
            raise ValueError('RefinedDetector: refiner_crop_size must be a positive int or '
                             f'None, got {refiner_crop_size}')
        self.refiner_crop_size = None if refiner_crop_size is None else int(refiner_crop_size)
        self.refiner = MODELS.build(refiner)
        self.loss_module = MODELS.build(
            loss or dict(type='DeepSupervisionBCELoss', loss_name='loss_refine'))
        check_train_cfg(train_cfg, type(self).__name__)
        # Sliding windows belong to the first stage (its own test_cfg); the refiner sees the
        # whole map at the original size.
        self.test_cfg = check_test_cfg(test_cfg, type(self).__name__, modes=('whole', ))

    # ------------------------------------------------------------------------ weights and mode
    def train(self, mode: bool = True):
        """Set the mode of the refiner; the first stage always stays in eval mode."""
        super().train(mode)
        self.first_stage.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the refiner, then load the first stage from ``first_stage_checkpoint``.

        The first stage's own ``init_cfg``s (e.g. ImageNet weights) are skipped: the checkpoint
        replaces them."""
        self.first_stage.is_init = True
        super().init_weights()
        self.load_first_stage()

    def load_first_stage(self) -> None:
        path = self.first_stage_checkpoint
        if path is None:
            if any(True for _ in self.first_stage.parameters()):
                raise ValueError(
                    f'RefinedDetector: the first stage ({type(self.first_stage).__name__}) has '
                    'parameters but model.first_stage_checkpoint is not set; train the first '
                    'stage and point first_stage_checkpoint at its checkpoint')
            return
        if not osp.isfile(path):
            raise FileNotFoundError(f'RefinedDetector: first_stage_checkpoint not found: {path}')
        load_checkpoint(self.first_stage, path, map_location='cpu', strict=True)
        self.first_stage.requires_grad_(False)
        self.first_stage.eval()

    # ------------------------------------------------------------------------------ pieces
    @torch.no_grad()
    def first_stage_logits(self, inputs: torch.Tensor,
                           data_samples: Optional[Sequence[SalDataSample]] = None
                           ) -> torch.Tensor:
        """The first stage's final logits (N, 1, H, W) at the input size (run at
        ``first_stage_input_size`` when set)."""
        self.first_stage.eval()
        size = tuple(inputs.shape[-2:])
        x = inputs
        if self.first_stage_input_size is not None and size != self.first_stage_input_size:
            x = F.interpolate(inputs, size=self.first_stage_input_size, mode='bilinear',
                              align_corners=False)
        logit = self.first_stage.final_logits(x, data_samples)
        if tuple(logit.shape[-2:]) != size:
            logit = F.interpolate(logit, size=size, mode='bilinear',
                                  align_corners=self.align_corners)
        return logit

    def first_stage_maps(self, inputs: torch.Tensor,
                         data_samples: Optional[Sequence[SalDataSample]] = None) -> torch.Tensor:
        """The first stage's final map (N, 1, H, W) in [0, 1] at the input size."""
        return self.first_stage_logits(inputs, data_samples).sigmoid()

    def postprocess_map(self, logit: torch.Tensor, sal_map: torch.Tensor, sample: SalDataSample
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
        """First-stage map at the original size -> the first stage's ``postprocess_map`` (the
        prior) -> ``refiner.refine(original image, prior)`` -> this wrapper's post-processors;
        returns the refined (logits, map)."""
        _, prior = self.first_stage.postprocess_map(logit, sal_map, sample)
        prior = prior.clamp(0, 1)
        sample.prior_sal_map = PixelData(data=prior)
        image = original_image(sample).to(prior.device)
        logit, refined = self.refiner.refine(image, prior)
        return logit, self.apply_postprocessors(refined, sample)

    # ------------------------------------------------------------------------------ modes
    def _forward(self, inputs: torch.Tensor, data_samples=None) -> List[torch.Tensor]:
        """[first-stage logit, refined logit], both (N, 1, H, W) at the input size."""
        priors = self.first_stage_maps(inputs, data_samples)
        refined = self.refiner(self.data_preprocessor.denormalize(inputs), priors)
        return [torch.logit(priors, eps=1e-6), refined]

    def random_windows(self, *batches: Optional[torch.Tensor]) -> List[Optional[torch.Tensor]]:
        """The same random ``refiner_crop_size`` window of each sample, cut from every batch
        (N, C, H, W) given (``None`` passes through); all batches unchanged when no crop size is
        set or the input is not larger than it."""
        size = self.refiner_crop_size
        height, width = batches[0].shape[-2:]
        if size is None or (height <= size and width <= size):
            return list(batches)
        size_h, size_w = min(size, height), min(size, width)
        tops = torch.randint(0, height - size_h + 1, (batches[0].shape[0],)).tolist()
        lefts = torch.randint(0, width - size_w + 1, (batches[0].shape[0],)).tolist()
        return [None if batch is None else torch.stack(
            [sample[:, top:top + size_h, left:left + size_w]
             for sample, top, left in zip(batch, tops, lefts)]) for batch in batches]

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[SalDataSample]) -> Dict:
        target = self.ground_truth(data_samples, inputs.dtype)
        priors = self.first_stage_maps(inputs, data_samples)
        images, priors, target, valid = self.random_windows(
            self.data_preprocessor.denormalize(inputs), priors, target,
            self.padding_mask(data_samples, target))
        logits = self.refiner(images, priors)
        if logits.shape[-2:] != target.shape[-2:]:
            raise ValueError(f'RefinedDetector: refiner output {tuple(logits.shape)} does not '
                             f'match the mask {tuple(target.shape)}')
        return self.loss_module([logits], target, valid)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[SalDataSample]] = None) -> List[SalDataSample]:
        """First-stage logits at the input size -> :meth:`postprocess_result` (which refines
        in :meth:`postprocess_map`)."""
        self.first_stage.eval()
        return self.postprocess_result(self.first_stage_logits(inputs, data_samples),
                                       self.default_samples(inputs, data_samples))
