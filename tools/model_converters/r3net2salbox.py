"""Convert R3Net's official checkpoint (``6000.pth``, zijundeng/R3Net) to salbox.

    python tools/model_converters/r3net2salbox.py 6000.pth work_dirs/r3net_official.pth

The output ``{'state_dict': ...}`` loads into the R3Net configs' ``SaliencyDetector`` (backbone/neck/head keys) with
``load_from=`` or ``tools/test.py CONFIG CHECKPOINT``. Before saving, the converted weights are
loaded strictly into a salbox ResNeXt + ``R3NetNeck`` + ``R3NetHead`` built to match, so a file
with an unexpected layout is reported instead of silently half-converted.
"""
import argparse
import os
from collections import OrderedDict
from typing import Mapping

import torch
from torch import nn

from salbox.models.backbones import ResNet
from salbox.models.heads import R3NetHead
from salbox.models.necks import R3NetNeck
from salbox.models.utils import convert_r3net_official, infer_resnet_args
from salbox.utils import load_checkpoint_file


def convert(state_dict: Mapping) -> 'OrderedDict':
    """Official R3Net keys -> salbox ``R3Net`` detector keys (see ``salbox.models.utils``)."""
    return convert_r3net_official(state_dict)


def check_loads(converted: Mapping) -> nn.Module:
    """Load ``converted`` strictly into matching salbox parts; raises naming bad keys."""
    model = nn.Module()
    model.backbone = ResNet(**infer_resnet_args(converted, prefix='backbone.'))
    model.neck = R3NetNeck(in_channels=model.backbone.stage_channels)
    num_steps = len({k.split('.')[2] for k in converted if k.startswith('head.rrbs.')})
    model.head = R3NetHead(num_steps=num_steps)
    model.load_state_dict(converted, strict=True)
    return model


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help="official R3Net checkpoint, e.g. '6000.pth'")
    parser.add_argument('dst', help='output path of the salbox checkpoint')
    args = parser.parse_args(argv)

    checkpoint = load_checkpoint_file(args.src)
    state_dict = checkpoint.get('state_dict', checkpoint)
    converted = convert(state_dict)
    check_loads(converted)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=converted, meta=dict(converted_from=os.path.basename(args.src))),
               args.dst)
    print(f'{args.src}: {len(converted)} tensors converted -> {args.dst}')


if __name__ == '__main__':
    main()
