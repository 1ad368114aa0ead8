"""DGRL's Contextual Weighting Module (CWM) and the per-pass fusion of three of them.

Wang et al., "Detect Globally, Refine Locally", CVPR 2018, Sec. 3.1, with every number from the
official Caffe code (``stage1/train/train.prototxt`` of
TiantianWang/CVPR18_detect_globally_refine_locally).
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from salbox.registry import MODELS


class ChannelL2Norm(nn.Module):
    """Per-pixel L2 normalisation across channels with a learnable per-channel scale.

    SSD's ``Normalize`` layer as DGRL uses it (``across_spatial: false``, ``channel_shared:
    false``, scale filler 10, eps 1e-10; official prototxt): ``x / sqrt(sum_c x^2 + eps) * s_c``.
    """

    def __init__(self, channels: int, scale: float = 10.0, eps: float = 1e-10):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels, ), float(scale)))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = x.pow(2).sum(dim=1, keepdim=True).add(self.eps).sqrt()
        return x / norm * self.weight.view(1, -1, 1, 1)


def caffe_shrink_size(size: Sequence[int], factor: int = 2) -> List[int]:
    """Output size of Caffe ``Interp`` with ``shrink_factor``: (s - 1) // f + 1 (48 -> 24)."""
    return [(s - 1) // factor + 1 for s in size]


@MODELS.register_module()
class ContextualWeightingModule(nn.Module):
    """One CWM on a backbone feature f (C x H x W) -> weighted feature (channels x H x W).

    Official code (``stage1/train/train.prototxt``):

    * feature branch: 3x3 conv C -> ``channels`` (128), no bias;
    * weight branch: bilinear x1/2 resize (``align_corners=True``; 48 -> 24), three parallel
      "context filters" 3x3 / 5x5 / 7x7, C -> ``context_channels`` (32) each, no bias, no ReLU,
      each L2-normalised per pixel with a learnable scale (init 10), concatenated (96) and
      reduced by an m x m conv (m = ``weight_kernel`` = 3) to one channel, no bias;
    * spatial softmax over the h*w positions, times h*w (mean weight 1), bilinear
      (``align_corners=True``) upsampling to H x W, and multiplication with every channel of the
      feature branch.

    Weights start from N(0, 0.01) (official prototxt ``gaussian`` std 0.01 for the head).
    """

    def __init__(self, in_channels: int, channels: int = 128, context_channels: int = 32,
                 context_kernels: Sequence[int] = (3, 5, 7), weight_kernel: int = 3,
                 norm_scale: float = 10.0, downsample: int = 2, align_corners: bool = True,
                 init_std: float = 0.01):
        super().__init__()
        for k in (*context_kernels, weight_kernel):
            if k % 2 == 0:
                raise ValueError(f'ContextualWeightingModule: kernel sizes must be odd, got {k}')
        self.downsample = downsample
        self.align_corners = align_corners
        self.feature_conv = nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)
        self.context_convs = nn.ModuleList(
            nn.Conv2d(in_channels, context_channels, k, padding=k // 2, bias=False)
            for k in context_kernels)
        self.context_norms = nn.ModuleList(
            ChannelL2Norm(context_channels, norm_scale) for _ in context_kernels)
        self.weight_conv = nn.Conv2d(context_channels * len(context_kernels), 1, weight_kernel,
                                     padding=weight_kernel // 2, bias=False)
        for conv in (self.feature_conv, *self.context_convs, self.weight_conv):
            nn.init.normal_(conv.weight, std=init_std)

    def weight_map(self, x: torch.Tensor) -> torch.Tensor:
        """The contextual weighting map (N, 1, H, W), mean 1 over the low-resolution grid."""
        small = x
        if self.downsample > 1:
            small = F.interpolate(x, size=caffe_shrink_size(x.shape[-2:], self.downsample),
                                  mode='bilinear', align_corners=self.align_corners)
        context = torch.cat([norm(conv(small)) for conv, norm in
                             zip(self.context_convs, self.context_norms)], dim=1)
        score = self.weight_conv(context)
        n, _, h, w = score.shape
        weights = F.softmax(score.flatten(1), dim=1).view(n, 1, h, w) * (h * w)
        if (h, w) != tuple(x.shape[-2:]):
            weights = F.interpolate(weights, size=x.shape[-2:], mode='bilinear',
                                    align_corners=self.align_corners)
        return weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_conv(x) * self.weight_map(x)


@MODELS.register_module()
class ContextualWeightingFusion(nn.Module):
    """One RLN prediction: a CWM per input level, fused into one logit map.

    Official code (``stage1/train/train.prototxt``): the weighted 128-channel maps of res3, res4 and res5
    are bilinearly resized (``align_corners=True``) to the first (finest, 1/8) level's size and
    summed, then a 1x1 conv 128 -> 128 (bias) and a 1x1 conv to the classifier, no ReLU anywhere.

    The official classifier has 2 outputs and a 2-class softmax. A 2-class softmax of scores
    (a, b) equals ``sigmoid(b - a)``, and b - a of a 1x1 conv with bias is itself a 1x1 conv with
    bias, so one logit with a sigmoid (salbox's head convention) spans exactly the same functions
    with 129 fewer parameters (chosen).

    Args:
        in_channels: channels of each input level (official: 512, 1024, 2048).
        channels: CWM feature width (official: 128).
        **cwm_kwargs: forwarded to every :class:`ContextualWeightingModule`.
    """

    def __init__(self, in_channels: Sequence[int] = (512, 1024, 2048), channels: int = 128,
                 align_corners: bool = True, init_std: float = 0.01, **cwm_kwargs):
        super().__init__()
        self.align_corners = align_corners
        self.cwms = nn.ModuleList(
            ContextualWeightingModule(c, channels, align_corners=align_corners,
                                      init_std=init_std, **cwm_kwargs) for c in in_channels)
        self.fuse_conv = nn.Conv2d(channels, channels, 1)
        self.cls_conv = nn.Conv2d(channels, 1, 1)
        for conv in (self.fuse_conv, self.cls_conv):
            nn.init.normal_(conv.weight, std=init_std)
            nn.init.zeros_(conv.bias)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(feats) != len(self.cwms):
            raise ValueError(f'ContextualWeightingFusion: expected {len(self.cwms)} feature '
                             f'maps, got {len(feats)}')
        size = feats[0].shape[-2:]
        fused = None
        for cwm, feat in zip(self.cwms, feats):
            weighted = cwm(feat)
            if weighted.shape[-2:] != size:
                weighted = F.interpolate(weighted, size=size, mode='bilinear',
                                         align_corners=self.align_corners)
            fused = weighted if fused is None else fused + weighted
        return self.cls_conv(self.fuse_conv(fused))
