"""State-dict layouts (key -> shape) of R3Net's two official weight files, written from the
official module definitions of zijundeng/R3Net at commit 1f28c49:

* ``resnext/resnext_101_32x4d_.py``: the Torch7-converted ImageNet ResNeXt-101 32x4d
  (``resnext_101_32x4d.pth``, loaded by ``resnext/resnext101.py``). One flat ``nn.Sequential``:
  0 Conv2d(3, 64, 7, bias=False), 1 BatchNorm2d(64), 2 ReLU, 3 MaxPool2d, 4..7 the stages,
  8 AvgPool2d, 9 Lambda (view), 10 ``nn.Sequential(Lambda, nn.Linear(2048, 1000))``, so the
  classifier is ``10.1.weight`` / ``10.1.bias``. A block is ``Sequential(LambdaMap(main,
  shortcut), LambdaReduce, ReLU)``; ``main = Sequential(Sequential(conv 1x1, BN, ReLU, conv 3x3
  groups 32, BN, ReLU), conv 1x1, BN)``; the shortcut is ``Sequential(conv 1x1, BN)`` in a
  stage's first block and a parameter-free ``Lambda`` (identity) after it. Inner widths
  128/256/512/1024, outputs 256/512/1024/2048, blocks (3, 4, 23, 3).
* ``model.py``: R3Net, whose ``state_dict`` is ``6000.pth``: ``layer0 = Sequential(net[:4])``,
  ``layer1..4 = net[4..7]``; ``reduce_low`` = [Conv(832, 256, 3), BN, PReLU, Conv(256, 256, 3),
  BN, PReLU, Conv(256, 256, 1), BN, PReLU]; ``reduce_high`` = [Conv(3072, 256, 3), BN, PReLU,
  Conv(256, 256, 3), BN, PReLU, _ASPP(256)] with ``_ASPP.conv1..conv5`` = [Conv(256, 128, k), BN,
  PReLU] (k = 1, 3, 3, 3, 1) and ``fuse`` = [Conv(640, 256, 1), BN, PReLU];
  ``predict0 = Conv(256, 1, 1)``; ``predict1..6`` = [Conv(257, 128, 3), BN, PReLU,
  Conv(128, 128, 3), BN, PReLU, Conv(128, 1, 1)]. Convs have biases (PyTorch's default) except
  in the backbone; ``nn.PReLU()`` has one weight.

Both files were written by PyTorch <= 0.4.0, so BatchNorm layers carry ``weight``, ``bias``,
``running_mean`` and ``running_var`` but no ``num_batches_tracked``. Nothing here is built from
salbox's converter or models, so a converter that disagrees with the official layout fails.
"""
from collections import OrderedDict
from typing import Dict, Sequence, Tuple

import torch

Shape = Tuple[int, ...]
RESNEXT101_BLOCKS = (3, 4, 23, 3)
BN_KEYS = ('weight', 'bias', 'running_mean', 'running_var')


def _bn(layout: Dict[str, Shape], prefix: str, channels: int) -> None:
    for name in BN_KEYS:
        layout[f'{prefix}.{name}'] = (channels, )


def _conv(layout, prefix, cout, cin, k, bias, groups=1):
    layout[f'{prefix}.weight'] = (cout, cin // groups, k, k)
    if bias:
        layout[f'{prefix}.bias'] = (cout, )


def _cbp(layout, prefix, start, cout, cin, k):
    """Conv (with bias) at ``start``, BN at ``start + 1``, PReLU (one weight) at ``start + 2``."""
    _conv(layout, f'{prefix}.{start}', cout, cin, k, bias=True)
    _bn(layout, f'{prefix}.{start + 1}', cout)
    layout[f'{prefix}.{start + 2}.weight'] = (1, )


def resnext_stages(layout, stage_prefixes: Sequence[str],
                   blocks: Sequence[int] = RESNEXT101_BLOCKS, groups: int = 32) -> None:
    """The four Torch7 ResNeXt stages (32x4d widths) under the given prefixes."""
    cin = 64
    for stage, (prefix, num) in enumerate(zip(stage_prefixes, blocks)):
        width, cout = 128 * 2**stage, 256 * 2**stage
        for block in range(num):
            p = f'{prefix}.{block}.0'  # the block's LambdaMap (ConcatTable)
            block_in = cin if block == 0 else cout
            _conv(layout, f'{p}.0.0.0', width, block_in, 1, bias=False)
            _bn(layout, f'{p}.0.0.1', width)
            _conv(layout, f'{p}.0.0.3', width, width, 3, bias=False, groups=groups)
            _bn(layout, f'{p}.0.0.4', width)
            _conv(layout, f'{p}.0.1', cout, width, 1, bias=False)
            _bn(layout, f'{p}.0.2', cout)
            if block == 0:
                _conv(layout, f'{p}.1.0', cout, block_in, 1, bias=False)
                _bn(layout, f'{p}.1.1', cout)
        cin = cout


def imagenet_resnext101_32x4d_layout(blocks: Sequence[int] = RESNEXT101_BLOCKS
                                     ) -> 'OrderedDict[str, Shape]':
    """Keys and shapes of ``resnext_101_32x4d.pth`` (``blocks`` shrinks it for fast tests)."""
    layout = OrderedDict()
    _conv(layout, '0', 64, 3, 7, bias=False)
    _bn(layout, '1', 64)
    resnext_stages(layout, ['4', '5', '6', '7'], blocks)
    layout['10.1.weight'] = (1000, 2048)  # nn.Sequential(Lambda, nn.Linear(2048, 1000))
    layout['10.1.bias'] = (1000, )
    return layout


def r3net_6000_layout(blocks: Sequence[int] = RESNEXT101_BLOCKS) -> 'OrderedDict[str, Shape]':
    """Keys and shapes of R3Net's ``6000.pth``."""
    layout = OrderedDict()
    _conv(layout, 'layer0.0', 64, 3, 7, bias=False)
    _bn(layout, 'layer0.1', 64)
    resnext_stages(layout, ['layer1', 'layer2', 'layer3', 'layer4'], blocks)
    for start, (cout, cin, k) in zip((0, 3, 6), ((256, 832, 3), (256, 256, 3), (256, 256, 1))):
        _cbp(layout, 'reduce_low', start, cout, cin, k)
    for start, (cout, cin, k) in zip((0, 3), ((256, 3072, 3), (256, 256, 3))):
        _cbp(layout, 'reduce_high', start, cout, cin, k)
    for branch, k in (('conv1', 1), ('conv2', 3), ('conv3', 3), ('conv4', 3), ('conv5', 1)):
        _cbp(layout, f'reduce_high.6.{branch}', 0, 128, 256, k)
    _cbp(layout, 'reduce_high.6.fuse', 0, 256, 640, 1)
    _conv(layout, 'predict0', 1, 256, 1, bias=True)
    for step in range(1, 7):
        _cbp(layout, f'predict{step}', 0, 128, 257, 3)
        _cbp(layout, f'predict{step}', 3, 128, 128, 3)
        _conv(layout, f'predict{step}.6', 1, 128, 1, bias=True)
    return layout


def num_parameters(layout: Dict[str, Shape]) -> int:
    """Trainable parameters (BN running statistics are buffers)."""
    total = 0
    for key, shape in layout.items():
        if key.endswith(('running_mean', 'running_var')):
            continue
        count = 1
        for size in shape:
            count *= size
        total += count
    return total


def random_state_dict(layout: Dict[str, Shape], seed: int = 0) -> 'OrderedDict':
    """Random tensors of the layout's shapes (positive running variances), as a stand-in for
    the real weights, which cannot be downloaded here."""
    generator = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in layout.items():
        if key.endswith('running_var'):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        elif key.endswith('running_mean') or key.endswith('.bias'):
            state[key] = torch.randn(shape, generator=generator) * 0.01
        elif len(shape) == 1:  # BN / PReLU weights
            state[key] = torch.rand(shape, generator=generator) * 0.5 + 0.5
        else:
            fan_in = 1
            for size in shape[1:]:
                fan_in *= size
            state[key] = torch.randn(shape, generator=generator) * (2.0 / fan_in) ** 0.5
    return state
