"""Convert the Torch7-ported ImageNet ResNeXt-101 32x4d used by R3Net
(``resnext_101_32x4d.pth`` of zijundeng/R3Net's README; keys ``0.*``, ``1.*``,
``4.b...``-``7.b...`` and the classifier ``10.1.*``, as ``resnext/resnext_101_32x4d_.py`` defines
it) to torchvision's names.

    python tools/model_converters/resnext101_32x4d2torchvision.py \
        resnext_101_32x4d.pth work_dirs/resnext101_32x4d_torchvision.pth

The output is a plain torchvision-style state dict (fc included) that salbox's ``ResNeXt``
loads with ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``. Before saving, it is loaded
into a matching salbox ResNeXt, where only ``fc.*`` may be left over.
"""
import argparse
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Mapping

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

import torch  # noqa: E402

from salbox.models.backbones import ResNet  # noqa: E402
from salbox.models.utils import convert_resnext_torch7, infer_resnet_args  # noqa: E402
from salbox.utils import load_checkpoint_file  # noqa: E402


def convert(state_dict: Mapping) -> 'OrderedDict':
    """Torch7 ResNeXt keys -> torchvision keys (see ``salbox.models.utils``)."""
    return convert_resnext_torch7(state_dict)


def check_loads(converted: Mapping) -> ResNet:
    """Load ``converted`` into a matching salbox backbone; raises unless only fc is left."""
    backbone = ResNet(**infer_resnet_args(converted))
    result = backbone.load_state_dict(converted, strict=False)
    unexpected = [k for k in result.unexpected_keys if not k.startswith('fc.')]
    if result.missing_keys or unexpected:
        raise KeyError(f'converted backbone does not match torchvision ResNeXt: missing '
                       f'{result.missing_keys}, unexpected {unexpected}')
    return backbone


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help="Torch7-ported checkpoint, e.g. 'resnext_101_32x4d.pth'")
    parser.add_argument('dst', help='output path of the torchvision-style state dict')
    args = parser.parse_args(argv)

    checkpoint = load_checkpoint_file(args.src)
    state_dict = checkpoint.get('state_dict', checkpoint)
    converted = convert(state_dict)
    check_loads(converted)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(converted, args.dst)
    print(f'{args.src}: {len(converted)} tensors converted -> {args.dst}')


if __name__ == '__main__':
    main()
