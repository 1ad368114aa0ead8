"""Building blocks of the LDPS relation model (Chen et al., AAAI 2020, Sec. 4 and Fig. 2).

Every number follows the official code, ``ouc-ocean-group/LDPS`` at commit 81a609d:
``lib/module/merge.py`` (tap fusion), ``lib/module/base.py`` (``ConvBlock``, ``ASPPBlock``,
``ResidualStage``) and ``lib/module/mi_module.py`` (the discriminator).
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn


def fuse_taps(feats: Sequence[torch.Tensor], align_corners: bool = True) -> torch.Tensor:
    """Multi-scale fusion (paper Sec. 4.1): every tap bilinearly resized to the first
    (highest-resolution, stride-2) tap and concatenated deepest first, as ``MergeModule`` does
    for the MobileNetV2 taps [17, 13, 3, 0] -> 320 + 96 + 24 + 32 = 472 channels.

    The model computes the fusion and the 1x1 conv after it with :func:`project_fused_taps`;
    this explicit form is its reference."""
    size = feats[0].shape[-2:]
    resized = [f if f.shape[-2:] == size else
               F.interpolate(f, size=size, mode='bilinear', align_corners=align_corners)
               for f in feats]
    return torch.cat(resized[::-1], dim=1)


def interpolation_matrix(in_size: int, out_size: int, align_corners: bool,
                         like: torch.Tensor) -> torch.Tensor:
    """The (out_size, in_size) matrix of PyTorch's 1-D linear interpolation, so that
    ``A_h @ x @ A_w.T`` is ``F.interpolate(x, mode='bilinear')`` (bilinear is separable).
    Built by interpolating the identity, so the sample positions are PyTorch's own."""
    eye = torch.eye(in_size, dtype=like.dtype, device=like.device)[:, None, :]
    return F.interpolate(eye, size=out_size, mode='linear',
                         align_corners=align_corners)[:, 0, :].t()


def project_fused_taps(feats: Sequence[torch.Tensor], weight: torch.Tensor,
                       bias: Optional[torch.Tensor] = None,
                       align_corners: bool = True) -> torch.Tensor:
    """``conv1x1(fuse_taps(feats))`` without building the fused map: the same numbers, up to
    float rounding, at a fraction of the cost.

    A 1x1 conv is a per-pixel linear map and bilinear resizing a per-channel linear map, so they
    commute: ``W [up(f_1); ...; up(f_k)] = sum_i W_i up(f_i) = sum_i up(W_i f_i)``, with ``W_i``
    the columns of ``W`` that see tap ``i``. Each tap takes the cheaper order:

    * a tap with fewer channels than rows (the stride-4 tap) is resized first and projected
      at the fused resolution together with the stride-2 tap, in one conv;
    * a deep tap (many channels, few rows) is projected at its own resolution, and all such
      projections are resized and summed in one matrix product
      ``[A_1 ... A_k] @ [Z_1; ...; Z_k]``, ``Z_i = (W_i f_i) @ B_i^T`` (``A_i``, ``B_i``: the
      row and column interpolation matrices).

    For the LDPS taps at a 256 x 256 input this is about 6x fewer multiply-adds than the
    explicit 472 -> 472 conv on the 128 x 128 fused map, and no 472-channel concatenation.
    That is the NCHW path (``_combine_nchw``). Channels-last taps (the bfloat16 inference copy)
    take ``_combine_channels_last``: the same split, with the deep projections resized by
    ``F.interpolate`` instead of the matrix product.
    """
    channels = [f.shape[1] for f in feats][::-1]  # concatenated deepest first
    if sum(channels) != weight.shape[1]:
        raise ValueError(f'project_fused_taps: the taps have {sum(channels)} channels in all, '
                         f'the weight expects {weight.shape[1]}')
    weights = torch.split(weight.flatten(1), channels, dim=1)[::-1]
    height, width = feats[0].shape[-2:]
    near, near_weights, deep, deep_weights = [], [], [], []
    for feat, w in zip(feats, weights):
        h, wd = feat.shape[-2:]
        if (h, wd) == (height, width) or feat.shape[1] <= h:
            near.append(feat if (h, wd) == (height, width) else F.interpolate(
                feat, size=(height, width), mode='bilinear', align_corners=align_corners))
            near_weights.append(w)
        else:
            deep.append(feat)
            deep_weights.append(w)
    # The first tap sets the fused size, so ``near`` always holds it.
    near_cat, near_weight = torch.cat(near, dim=1), torch.cat(near_weights, dim=1)
    combine = _combine_channels_last if _is_channels_last(feats[0]) else _combine_nchw
    return combine(near_cat, near_weight, deep, deep_weights, bias, align_corners)


def _is_channels_last(x: torch.Tensor) -> bool:
    return (x.dim() == 4 and not x.is_contiguous()
            and x.is_contiguous(memory_format=torch.channels_last))


def _combine_nchw(near_cat, near_weight, deep, deep_weights, bias, align_corners):
    """``project_fused_taps`` for NCHW tensors: the near taps' 1x1 conv is one matrix product
    (bias added in it); the deep projections, each ``(h_i, W)`` per channel after the column
    resize, are row-resized and summed in one batched product over (image, channel)."""
    batch, _, height, width = near_cat.shape
    out_channels = near_weight.shape[0]
    flat = near_cat.flatten(2)
    weight = near_weight.expand(batch, -1, -1)
    if bias is None:
        out = torch.bmm(weight, flat)
    else:
        out = torch.baddbmm(bias.view(1, -1, 1).expand(batch, -1, height * width), weight, flat)
    out = out.view(batch, out_channels, height, width)
    if deep:
        rows, cols = [], []
        for feat, w in zip(deep, deep_weights):
            h, wd = feat.shape[-2:]
            proj = F.conv2d(feat, w[:, :, None, None])
            rows.append(interpolation_matrix(h, height, align_corners, proj))
            cols.append(proj @ interpolation_matrix(wd, width, align_corners, proj).t())
        resized_rows = torch.cat(rows, dim=1).expand(batch * out_channels, -1, -1)
        out.flatten(0, 1).baddbmm_(resized_rows, torch.cat(cols, dim=-2).flatten(0, 1))
    return out


def _combine_channels_last(near_cat, near_weight, deep, deep_weights, bias, align_corners):
    """``project_fused_taps`` for channels-last tensors (the bfloat16 inference copy): the
    near taps' 1x1 conv and each deep tap's projection run as oneDNN convs, and the deep
    projections are resized with ``F.interpolate`` and added in place. Nothing is transposed
    between layouts (PyTorch's channels-last transposes and skinny bfloat16 matrix products
    are slow on the CPU)."""
    out = F.conv2d(near_cat, near_weight[:, :, None, None], bias)
    for feat, w in zip(deep, deep_weights):
        proj = F.conv2d(feat, w[:, :, None, None])
        out.add_(F.interpolate(proj, size=out.shape[-2:], mode='bilinear',
                               align_corners=align_corners))
    return out


class ConvBlock(nn.Sequential):
    """Conv -> BN -> optional PReLU (one shared slope): the official ``ConvBlock``.
    Children ``conv``, ``bn``, ``act``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 dilation: int = 1, bias: bool = False, act: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                              padding=dilation * (kernel_size - 1) // 2, dilation=dilation,
                              bias=bias)
        self.bn = nn.BatchNorm2d(out_channels)
        if act:
            self.act = nn.PReLU()


class RelationASPP(nn.Module):
    """The official ``ASPPBlock``: a reduction (1x1 C->C, 3x3 C->out, 1x1 out->out), four
    parallel out->out branches (1x1; 3x3 with dilation 6, 12, 18), concatenation and a 1x1
    fuse to ``out_channels`` (32, paper Sec. 4.1). No image-pooling branch; convs without bias.
    """

    def __init__(self, in_channels: int, out_channels: int = 32,
                 dilations: Sequence[int] = (6, 12, 18)):
        super().__init__()
        self.reduce = nn.Sequential(ConvBlock(in_channels, in_channels, 1),
                                    ConvBlock(in_channels, out_channels, 3),
                                    ConvBlock(out_channels, out_channels, 1))
        self.branches = nn.ModuleList([ConvBlock(out_channels, out_channels, 1)] + [
            ConvBlock(out_channels, out_channels, 3, dilation=d) for d in dilations])
        self.fuse = ConvBlock(out_channels * (len(dilations) + 1), out_channels, 1)

    def forward(self, x: Union[torch.Tensor, Sequence[torch.Tensor]],
                align_corners: bool = True) -> torch.Tensor:
        """``x``: the fused map, or the backbone's taps (then the fusion and the first 1x1
        conv run as :func:`project_fused_taps`, the same function at a fraction of the cost).
        """
        if isinstance(x, torch.Tensor):
            x = self.reduce(x)
        else:
            first = self.reduce[0]
            x = project_fused_taps(x, first.conv.weight, first.conv.bias, align_corners)
            for module in list(first)[1:] + list(self.reduce)[1:]:
                x = module(x)
        return self.fuse(torch.cat([branch(x) for branch in self.branches], dim=1))


class ResidualBlock(nn.Module):
    """3x3 ConvBlock (bias, PReLU) -> 3x3 ConvBlock (bias, no activation) + identity; no
    activation after the addition (official ``ResidualBlock`` with stride 1, equal widths)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvBlock(channels, channels, 3, bias=True)
        self.conv2 = ConvBlock(channels, channels, 3, bias=True, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


class FeatureTransformer(nn.Sequential):
    """A residual stage of ``num_blocks`` (3) blocks: the official ``ResidualStage(32, 32, 3,
    stride=1)``, used twice (``certain_transformer`` for the anchor, ``all_transformer`` for
    every pixel)."""

    def __init__(self, channels: int = 32, num_blocks: int = 3):
        super().__init__(*[ResidualBlock(channels) for _ in range(num_blocks)])


class PairDiscriminator(nn.Sequential):
    """The discriminator F of Eq. 5, applied densely to [anchor, pixel] pairs as 1x1 convs.

    ``num_layers=2`` is the released code (``mi_module.py``: 1x1 conv 2C->2C with bias, BN,
    PReLU, 1x1 conv 2C->1). ``num_layers=5`` is the paper's count (Sec. 5.3, "The discriminator
    consists of 5 convolutional layers"; its detailed layout is in a supplementary that is not
    available): chosen as four 1x1 conv-BN-PReLU layers of width ``hidden`` and a 1x1 conv to 1.
    Returns logits (the sigmoid is applied by the caller / folded into the loss).

    Call it on the concatenated pairs (N, 2C, H, W), or as ``pairs(anchor, pixels,
    anchor_first)``: the anchor is the same for every pixel of an image, so its half of the
    first 1x1 conv is a per-image bias and the pairs are never materialised (same numbers).
    """

    def __init__(self, in_channels: int = 64, hidden: int = 64, num_layers: int = 2):
        if num_layers < 1:
            raise ValueError(f'PairDiscriminator: num_layers must be >= 1, got {num_layers}')
        layers: List[nn.Module] = []
        channels = in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Conv2d(channels, hidden, 1), nn.BatchNorm2d(hidden), nn.PReLU()]
            channels = hidden
        layers.append(nn.Conv2d(channels, 1, 1))
        super().__init__(*layers)

    def pairs(self, anchor: torch.Tensor, pixels: torch.Tensor,
              anchor_first: bool = True) -> torch.Tensor:
        """Logits of the pairs ``[anchor, pixel]`` (or ``[pixel, anchor]``) for every pixel.
        ``anchor``: (N, C); ``pixels``: (N, C, H, W)."""
        first = self[0]
        channels = pixels.shape[1]
        weight = first.weight.flatten(1)
        w_anchor, w_pixel = ((weight[:, :channels], weight[:, channels:]) if anchor_first else
                             (weight[:, channels:], weight[:, :channels]))
        per_image = anchor @ w_anchor.t()
        if first.bias is not None:
            per_image = per_image + first.bias
        x = F.conv2d(pixels, w_pixel[:, :, None, None]) + per_image[:, :, None, None]
        for module in list(self)[1:]:
            x = module(x)
        return x
