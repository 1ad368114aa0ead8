"""The LDPS relation model: features -> fusion -> ASPP -> two transformers -> anchor and pair
discriminator (Chen et al., "Learning Deep Relations to Promote Saliency Detection", AAAI 2020,
Sec. 4, Fig. 2; official code ``ouc-ocean-group/LDPS`` at 81a609d, ``lib/model/mi.py`` and
``lib/module/mi_module.py``).

Training is label-free: the only supervision is the prior map of another detector, thresholded
into an anchor mask (``theta_fg``), positives (``theta_afg``) and negatives (``theta_abg``).
"""
import contextlib
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData
from torch.nn.modules.batchnorm import _BatchNorm

from salbox.registry import MODELS
from salbox.structures import PRIOR_KEY, SalDataSample
from ..detectors.base import ModeDispatch, unflip
from .first_stage import build_first_stage, load_weights, preprocessing
from .relation_modules import FeatureTransformer, PairDiscriminator, RelationASPP
from .relation_ops import confidence_merge, foreground_anchor, minmax_normalise, pair_targets


@contextlib.contextmanager
def image_bn_stats(model: torch.nn.Module, enabled: bool = True):
    """Let every BatchNorm normalise with the current batch's statistics (train mode with
    momentum 0, so the running statistics stay as they are); restores the modes after."""
    if not enabled:
        yield
        return
    saved = [(m, m.training, m.momentum) for m in model.modules() if isinstance(m, _BatchNorm)]
    try:
        for m, _, _ in saved:
            m.train()
            m.momentum = 0.0
        yield
    finally:
        for m, training, momentum in saved:
            m.train(training)
            m.momentum = momentum


@MODELS.register_module()
class MIRelationNet(ModeDispatch, BaseModel):
    """Mutual-information relation model that promotes prior saliency maps.

    Args:
        backbone: backbone config returning taps ordered from the highest resolution (the
            first tap fixes the fused resolution; LDPS: MobileNetV2 taps 0/3/13/17, the first at
            1/2 of the input).
        in_channels: channels after fusion (default: the sum of ``backbone.out_channels``;
            472 for the LDPS taps).
        channels: ASPP output and transformer width (32, paper Sec. 4.1).
        num_blocks: residual blocks per transformer (3, official ``ResidualStage(..., 3)``).
        discriminator_layers: 2 (default, the released code) or 5 (the paper's count, Sec. 5.3);
            see :class:`PairDiscriminator`. The default is the code's because it is the only
            layout that was published, and it is the cheaper one at inference.
        theta_fg, theta_afg, theta_abg: the guide-mask thresholds 0.9 / 0.8 / 0.3 (Sec. 5.3).
        random_pair_order: during training, concatenate [pixel, anchor] or [anchor, pixel] at
            random (p = 0.5 per forward, as ``MIModule.forward``); at inference the order is
            always [anchor, pixel] as Eq. 8 writes it.
        max_pairs: keep at most this many random valid pixels per image in the loss (the
            code's unused ``MIModule.sample_k``, k = 5000); None (default, the code's behaviour)
            uses every valid pixel.
        input_size: (H, W) to resize images and priors to before the network (the paper's
            speed figure is at 256 x 256, Sec. 5.4); None (default, the code's behaviour) runs at
            the native resolution. Maps always come back at the prior's resolution.
        test_bn_stats: BatchNorm statistics at inference: ``'running'`` (default, the code's
            ``model.eval()``) or ``'image'`` (each image's own statistics; chosen for short
            label-free fits, whose running statistics are not yet settled; running statistics
            are left untouched).
        align_corners: for every bilinear resize (the code uses True).
        data_preprocessor: defaults to ImageNet mean/std on BGR-loaded images (the code's
            ``Normalize`` on RGB tensors).
        first_stage: ``dict(config=PATH, checkpoint=PATH or None, cfg_options=None)``: a frozen
            salbox detector owned by the promoter whose maps are the priors of samples that
            carry none (``PriorMapDataset(priors_from_model=True)``); loaded in
            ``init_weights`` and saved with the promoter (``first_stage.py``). It must use the
            promoter's data preprocessing. None (default): priors come with the data (a
            folder of maps).
    """

    def __init__(self,
                 backbone: dict,
                 in_channels: Optional[int] = None,
                 channels: int = 32,
                 num_blocks: int = 3,
                 discriminator_layers: int = 2,
                 theta_fg: float = 0.9,
                 theta_afg: float = 0.8,
                 theta_abg: float = 0.3,
                 random_pair_order: bool = True,
                 max_pairs: Optional[int] = None,
                 input_size: Optional[Sequence[int]] = None,
                 test_bn_stats: str = 'running',
                 align_corners: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 first_stage: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='SalDataPreProcessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0 <= theta_abg < theta_afg <= theta_fg <= 1:
            raise ValueError('MIRelationNet: thresholds must satisfy 0 <= theta_abg < theta_afg '
                             f'<= theta_fg <= 1, got {theta_abg}, {theta_afg}, {theta_fg}')
        self.backbone = MODELS.build(backbone)
        if in_channels is None:
            if not hasattr(self.backbone, 'out_channels'):
                raise ValueError('MIRelationNet: give in_channels (the backbone has no '
                                 'out_channels attribute)')
            in_channels = int(sum(self.backbone.out_channels))
        self.aspp = RelationASPP(in_channels, channels)
        self.certain_transformer = FeatureTransformer(channels, num_blocks)
        self.all_transformer = FeatureTransformer(channels, num_blocks)
        self.discriminator = PairDiscriminator(2 * channels, 2 * channels, discriminator_layers)
        self.theta_fg, self.theta_afg, self.theta_abg = theta_fg, theta_afg, theta_abg
        self.random_pair_order = random_pair_order
        self.max_pairs = max_pairs
        self.input_size = tuple(input_size) if input_size is not None else None
        if test_bn_stats not in ('running', 'image'):
            raise ValueError("MIRelationNet: test_bn_stats must be 'running' or 'image', "
                             f'got {test_bn_stats!r}')
        self.test_bn_stats = test_bn_stats
        self.align_corners = align_corners
        self.first_stage, self.first_stage_checkpoint = None, None
        if first_stage is not None:
            first_stage = dict(first_stage)
            self.first_stage_checkpoint = first_stage.get('checkpoint')
            self.first_stage = build_first_stage(**first_stage)
            if preprocessing(self.first_stage.data_preprocessor) != preprocessing(
                    self.data_preprocessor):
                raise ValueError('MIRelationNet: model.first_stage must use the promoter\'s '
                                 'data preprocessing (mean, std, bgr_to_rgb, scale_by_max): it '
                                 'runs on the promoter\'s input batch')

    # ------------------------------------------------------------------ first stage
    def train(self, mode: bool = True):
        """Set the mode of the promoter; a first stage always stays in eval mode."""
        super().train(mode)
        if self.first_stage is not None:
            self.first_stage.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the promoter, then load the first stage from its checkpoint (its own
        ``init_cfg``s are skipped: the checkpoint replaces them)."""
        if self.first_stage is not None:
            self.first_stage.is_init = True
        super().init_weights()
        if self.first_stage is not None:
            load_weights(self.first_stage, self.first_stage_checkpoint)

    @torch.no_grad()
    def first_stage_priors(self, inputs: torch.Tensor, data_samples: Sequence[SalDataSample]
                           ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The first stage's maps (N, 1, H, W) at the input size and the real-pixel area."""
        self.first_stage.eval()
        logit = self.first_stage.final_logits(inputs, data_samples)
        if tuple(logit.shape[-2:]) != tuple(inputs.shape[-2:]):
            logit = F.interpolate(logit, size=tuple(inputs.shape[-2:]), mode='bilinear',
                                  align_corners=self.align_corners)
        area = torch.zeros_like(logit)
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo.get('img_shape', inputs.shape[-2:])[:2]
            area[i, :, :h, :w] = 1
        return logit.sigmoid().to(inputs.dtype) * area, area

    def priors(self, inputs: torch.Tensor, data_samples: Sequence[SalDataSample]
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The batch's priors: from the samples, else from the first stage."""
        if self.first_stage is not None and data_samples and all(
                PRIOR_KEY not in s for s in data_samples):
            return self.first_stage_priors(inputs, data_samples)
        return self.stack_priors(data_samples, inputs.shape[-2:], inputs.dtype)

    # ------------------------------------------------------------------ network
    def _resize(self, x: torch.Tensor, size) -> torch.Tensor:
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        return F.interpolate(x, size=tuple(size), mode='bilinear',
                             align_corners=self.align_corners)

    @property
    def compute_dtype(self) -> torch.dtype:
        """The dtype of the network's weights: float32, or bfloat16 for an inference copy made
        with ``inference_copy(model, precision='bf16')``."""
        return self.aspp.fuse.conv.weight.dtype

    def relation_features(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(anchor-branch features, pixel-branch features), both (N, C, H/2, W/2)."""
        dtype = self.compute_dtype
        if inputs.dtype != dtype:  # a bfloat16 copy runs channels-last (oneDNN's fast path)
            inputs = inputs.to(dtype).contiguous(memory_format=torch.channels_last)
        return self.head_features(self.backbone(inputs))

    def head_features(self, taps: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Fusion -> ASPP -> the two transformers, from the backbone's taps."""
        feats = self.aspp(list(taps), self.align_corners)
        return self.certain_transformer(feats), self.all_transformer(feats)

    def relation_logits(self, inputs: torch.Tensor, priors: torch.Tensor,
                        features: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Discriminator logits (N, 1, H, W) at the priors' size and the (N,) has-anchor flags.

        ``features`` may be passed precomputed (the online mode freezes the backbone)."""
        certain, pixels = features if features is not None else self.relation_features(inputs)
        size = priors.shape[-2:]
        certain, pixels = self._resize(certain, size), self._resize(pixels, size)
        anchor, has_anchor = foreground_anchor(certain, priors, self.theta_fg)
        anchor_first = not (self.training and self.random_pair_order
                            and bool(torch.rand(()) > 0.5))
        logits = self.discriminator.pairs(anchor.to(pixels.dtype), pixels, anchor_first)
        return logits.to(priors.dtype), has_anchor

    def network_size(self, size) -> Tuple[int, int]:
        return tuple(self.input_size) if self.input_size is not None else tuple(size)

    # ------------------------------------------------------------------ training
    def loss_from_tensors(self, inputs: torch.Tensor, priors: torch.Tensor,
                          valid_area: Optional[torch.Tensor] = None,
                          features=None) -> Dict[str, torch.Tensor]:
        """BCE over the valid pairs, summed and divided by their number (``MIOperator.
        training_process``). ``inputs`` normalised (N, 3, H, W); ``priors`` (N, 1, H, W) at the
        inputs' size; ``valid_area`` optionally zeroes padding. Images without an anchor add
        nothing; a batch without any valid pair gives a zero loss that still backpropagates."""
        size = self.network_size(inputs.shape[-2:])
        inputs = self._resize(inputs, size)
        priors = self._resize(priors, size)
        logits, has_anchor = self.relation_logits(inputs, priors, features)
        target, valid = pair_targets(priors, self.theta_afg, self.theta_abg)
        valid = valid * has_anchor.to(valid.dtype).view(-1, 1, 1, 1)
        if valid_area is not None:
            valid = valid * self._resize(valid_area.to(valid.dtype), size)
        if self.max_pairs is not None:
            valid = self._subsample(valid, self.max_pairs)
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
        loss = (bce * valid).sum() / valid.sum().clamp_min(1.0)
        return dict(loss_mi=loss)

    @staticmethod
    def _subsample(valid: torch.Tensor, k: int) -> torch.Tensor:
        out = torch.zeros_like(valid)
        for i in range(valid.shape[0]):
            idx = valid[i].flatten().nonzero().squeeze(1)
            if idx.numel() > k:
                idx = idx[torch.randperm(idx.numel(), device=idx.device)[:k]]
            out[i].view(-1)[idx] = 1
        return out

    def stack_priors(self, data_samples: Sequence[SalDataSample], size,
                     dtype) -> Tuple[torch.Tensor, torch.Tensor]:
        """Priors of a batch padded to ``size`` and the (N, 1, H, W) real-pixel area."""
        if not data_samples or any(PRIOR_KEY not in s for s in data_samples):
            raise ValueError(f'MIRelationNet needs data samples with {PRIOR_KEY} '
                             '(is LoadPriorMap in the pipeline?) or a model.first_stage')
        priors, areas = [], []
        for sample in data_samples:
            prior = sample.get(PRIOR_KEY).data.to(dtype)
            h, w = prior.shape[-2:]
            pad = (0, size[1] - w, 0, size[0] - h)
            priors.append(F.pad(prior, pad))
            areas.append(F.pad(torch.ones_like(prior), pad))
        device = self.data_preprocessor.device if hasattr(self.data_preprocessor, 'device') \
            else None
        return torch.stack(priors).to(device), torch.stack(areas).to(device)

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[SalDataSample]) -> Dict:
        priors, area = self.priors(inputs, data_samples)
        return self.loss_from_tensors(inputs, priors.to(inputs.device), area.to(inputs.device))

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def promote_tensors(self, inputs: torch.Tensor, priors: torch.Tensor, features=None
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Promoted maps (N, 1, H, W) at the priors' size and the has-anchor flags.

        Sec. 4.3: score every pixel against the anchor, merge with the prior by confidence
        (Eq. 10-11), min-max normalise. A map without any pixel >= ``theta_fg`` is returned
        unchanged (its flag is False)."""
        size = self.network_size(inputs.shape[-2:])
        net_priors = self._resize(priors, size)
        with image_bn_stats(self, self.test_bn_stats == 'image' and not self.training):
            logits, has_anchor = self.relation_logits(self._resize(inputs, size), net_priors,
                                                      features)
        relation = self._resize(logits.sigmoid(), priors.shape[-2:])
        promoted = minmax_normalise(confidence_merge(relation, priors))
        keep = has_anchor.view(-1, 1, 1, 1)
        return torch.where(keep, promoted, priors), has_anchor

    def normalise_rgb(self, image: torch.Tensor) -> torch.Tensor:
        """uint8 RGB (3, H, W) -> the normalised (1, 3, H, W) network input."""
        pre = self.data_preprocessor
        x = image.to(self.aspp.fuse.conv.weight.device).float()
        if getattr(pre, 'normalize', False):
            x = (x - pre.mean.to(x.device)) / pre.std.to(x.device)
        return x[None]

    def promote(self, image: torch.Tensor, prior: torch.Tensor) -> Tuple[torch.Tensor, bool]:
        """One image: uint8 RGB (3, H, W) and prior (1, H, W) in [0, 1] -> ((1, H, W), has)."""
        device = self.aspp.fuse.conv.weight.device
        out, has = self.promote_tensors(self.normalise_rgb(image),
                                        prior[None].to(device, torch.float32))
        return out[0], bool(has[0])

    def predict(self, inputs: torch.Tensor,
                data_samples: Sequence[SalDataSample]) -> List[SalDataSample]:
        from_model = self.first_stage is not None and all(
            PRIOR_KEY not in s for s in data_samples)
        priors, _ = self.priors(inputs, data_samples)
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo.get('img_shape', inputs.shape[-2:])[:2]
            prior = priors[i:i + 1, :, :h, :w].to(inputs.device)
            if from_model:
                sample.set_field(PixelData(data=prior[0].cpu()), PRIOR_KEY)
            out, has = self.promote_tensors(inputs[i:i + 1, :, :h, :w], prior)
            ori_shape = tuple(sample.metainfo.get('ori_shape', (h, w)))[:2]
            out = self._resize(out, ori_shape)[0].clamp(0, 1)
            if sample.metainfo.get('flip', False):  # the pipeline flipped image and prior
                out = unflip(out, sample.metainfo.get('flip_direction', 'horizontal'))
            sample.pred_sal_map = PixelData(data=out)
            sample.set_metainfo(dict(has_anchor=bool(has[0])))
        return list(data_samples)

    def _forward(self, inputs: torch.Tensor, data_samples=None):
        """``mode='tensor'``: the relation features (:meth:`relation_features`)."""
        return self.relation_features(inputs)
