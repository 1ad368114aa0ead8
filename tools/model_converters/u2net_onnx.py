"""Convert U²-Net's / U²-Netp's ONNX file (as rembg ships it) to a salbox checkpoint.

    python tools/model_converters/u2net_onnx.py u2netp.onnx work_dirs/u2netp_official.pth

The initializers of the graph's 119 ``Conv`` nodes (BatchNorm folded in) become the weights of
salbox's ``U2Net`` + ``U2NetHead`` in execution order, checked by shape and name, every
initializer used once and every salbox tensor filled; BatchNorm is set to the identity
(``salbox/models/utils/u2net_onnx.py``). The output ``{'state_dict': ...}`` loads with
``tools/test.py configs/u2net/u2netp_pip.py OUT.pth``, ``load_from=`` or
``init_cfg=dict(type='Pretrained', checkpoint=OUT.pth)``. ``pip://u2netp`` / ``pip://u2net``
do the same conversion on load.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # checkout

import torch  # noqa: E402

from salbox.models.utils.u2net_onnx import ARCHS, onnx_to_state_dict  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help="U²-Net ONNX file, e.g. '~/.u2net/u2netp.onnx'")
    parser.add_argument('dst', help='output path of the salbox checkpoint (.pth)')
    parser.add_argument('--arch', choices=ARCHS,
                        help="'full' (U²-Net) or 'small' (U²-Netp); default: from the file")
    args = parser.parse_args(argv)
    state_dict = onnx_to_state_dict(args.src, arch=args.arch)
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=state_dict, meta=dict(converted_from=osp.basename(args.src))),
               args.dst)
    arch = 'small' if state_dict['backbone.stage1.rebnconv1.conv_s1.weight'].shape[0] == 16 \
        else 'full'
    print(f'{args.src}: U2Net(arch={arch!r}), {len(state_dict)} tensors -> {args.dst}')
    return 0


if __name__ == '__main__':
    from salbox.apis.runner_utils import run_friendly
    run_friendly(lambda: sys.exit(main()))
