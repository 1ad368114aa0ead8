"""U²-Net / U²-Netp ONNX files (the ones rembg ships) -> salbox state dict.

The ONNX export of the official ``U2NET`` / ``U2NETP`` (xuebinqin/U-2-Net ``model/u2net.py``)
that rembg distributes (``u2net.onnx``, ``u2netp.onnx``) has BatchNorm folded into the
convolutions: 119 ``Conv`` nodes with weight and bias, no ``BatchNormalization`` node, and only
the side outputs keep their names (``side1.weight``... ``outconv.bias``); the other initializers
are numbered. The mapping is therefore by execution order: the k-th ``Conv`` node of the graph
(ONNX graphs are topologically sorted; torch's exporter writes them in execution order) is the
k-th ``nn.Conv2d`` that salbox's ``U2Net`` + ``U2NetHead`` run, checked by shape, by name where
the ONNX file has one, and so that every initializer is used exactly once.

Folded BatchNorm (chosen, configs/u2net/README.md): each conv gets the folded weight and bias and
each BatchNorm becomes the identity in eval mode (weight 1, bias 0, running mean 0, running
variance ``1 - eps``), so salbox keeps one architecture, with the official parameter count. Such
a checkpoint is exact for testing; fine-tuning it trains BatchNorm from that identity start
(with batch statistics), not from the official statistics, which the file does not contain.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from salbox.utils.errors import SalboxError

ARCHS = ('full', 'small')
# arch -> the official file name (rembg's)
ONNX_NAMES = {'full': 'u2net', 'small': 'u2netp'}


def _load_graph(path: str):
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise SalboxError(f'{path}: reading U²-Net ONNX weights needs the onnx package: '
                          'pip install -r requirements/deploy.txt') from None
    if not osp.isfile(path):
        raise SalboxError(f'{path}: no such file (expected a U²-Net ONNX file, e.g. u2netp.onnx)')
    try:
        model = onnx.load(path)
    except Exception as exc:  # onnx raises DecodeError, ValueError, ... on a bad file
        raise SalboxError(f'{path}: not a readable ONNX file ({type(exc).__name__}: '
                          f'{str(exc).splitlines()[0] if str(exc) else "no detail"})') from None
    graph = model.graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    return graph, arrays


def build_u2net(arch: str) -> nn.Module:
    """salbox's U²-Net parts under the detector's names (``backbone``, ``head``)."""
    from salbox.models.backbones.u2net import U2Net
    from salbox.models.heads.u2net_head import U2NetHead
    model = nn.Module()
    model.backbone = U2Net(arch)
    model.head = U2NetHead(U2Net.channels(arch))
    return model.eval()


def conv_execution_order(model: nn.Module) -> List[Tuple[str, nn.Conv2d]]:
    """Every ``nn.Conv2d`` of ``model`` (``backbone`` + ``head``) in the order a forward pass
    runs them, recorded with forward hooks on a 32x32 input."""
    order: List[Tuple[str, nn.Conv2d]] = []
    handles = [m.register_forward_hook(lambda mod, _i, _o, name=name: order.append((name, mod)))
               for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            model.head(model.backbone(torch.zeros(1, 3, 32, 32)))
    finally:
        for handle in handles:
            handle.remove()
    return order


def onnx_convs(graph, arrays: Dict[str, np.ndarray], path: str
               ) -> List[Tuple[str, Optional[str]]]:
    """(weight, bias) initializer names of the graph's ``Conv`` nodes in graph order."""
    if any(node.op_type == 'BatchNormalization' for node in graph.node):
        raise SalboxError(f'{path}: has BatchNormalization nodes; this converter reads the '
                          'exports with BatchNorm folded into the convolutions (rembg\'s files)')
    convs = []
    for node in graph.node:
        if node.op_type != 'Conv':
            continue
        names = list(node.input[1:3]) + [None] * (3 - len(node.input))
        if names[0] not in arrays or (names[1] and names[1] not in arrays):
            raise SalboxError(f'{path}: Conv node {node.name or node.output[0]!r} takes its '
                              'weights from another node, not from an initializer')
        convs.append((names[0], names[1] or None))
    return convs


def detect_arch(convs, arrays, path: str) -> str:
    """'small' (U²-Netp: stage1 mid 16) or 'full' (U²-Net: 32), from the second conv."""
    if len(convs) < 2:
        raise SalboxError(f'{path}: {len(convs)} Conv nodes, not a U²-Net graph')
    mid = arrays[convs[1][0]].shape[0]
    for arch, stage1_mid in (('small', 16), ('full', 32)):
        if mid == stage1_mid:
            return arch
    raise SalboxError(f'{path}: the second Conv has {mid} output channels; U²-Netp has 16 and '
                      'U²-Net 32 (stage1.rebnconv1): not a U²-Net ONNX file')


def onnx_to_state_dict(path: str, arch: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """The salbox ``SaliencyDetector`` state dict (``backbone.*``, ``head.*``) of a U²-Net ONNX
    file. ``arch`` ('full' | 'small') is detected from the file when ``None``.

    Raises ``SalboxError`` (one line naming ``path``) when the file is not readable, has a
    different number of convolutions or a shape that differs, uses an initializer twice or leaves
    one unused, or does not fill every salbox parameter and buffer.
    """
    graph, arrays = _load_graph(path)
    convs = onnx_convs(graph, arrays, path)
    arch = arch or detect_arch(convs, arrays, path)
    if arch not in ARCHS:
        raise SalboxError(f'unknown U²-Net arch {arch!r}: choose one of {ARCHS}')
    model = build_u2net(arch)
    order = conv_execution_order(model)
    if len(order) != len(convs):
        raise SalboxError(f'{path}: {len(convs)} Conv nodes, salbox U2Net(arch={arch!r}) runs '
                          f'{len(order)} convolutions')
    state = OrderedDict()
    used: Dict[str, str] = {}
    for (name, conv), (weight, bias) in zip(order, convs):
        for onnx_name, param, key in ((weight, conv.weight, f'{name}.weight'),
                                      (bias, conv.bias, f'{name}.bias')):
            if onnx_name is None:
                raise SalboxError(f'{path}: the Conv for {name} has no bias (folded BatchNorm '
                                  'gives every conv one)')
            if onnx_name in used:
                raise SalboxError(f'{path}: initializer {onnx_name!r} is used by both '
                                  f'{used[onnx_name]} and {key}')
            value = arrays[onnx_name]
            if tuple(value.shape) != tuple(param.shape):
                raise SalboxError(f'{path}: initializer {onnx_name!r} has shape '
                                  f'{tuple(value.shape)}, {key} (Conv #{len(used) // 2}) needs '
                                  f'{tuple(param.shape)}')
            official = key.split('.', 1)[1]  # the official name, without backbone./head.
            if not onnx_name.replace('.', '').isdigit() and onnx_name != official:
                raise SalboxError(f'{path}: initializer {onnx_name!r} sits where salbox expects '
                                  f'{official!r}')
            used[onnx_name] = key
            state[key] = torch.from_numpy(np.array(value, dtype=np.float32))
    unused = sorted(set(arrays) - set(used))
    if unused:
        raise SalboxError(f'{path}: {len(unused)} initializers not used by any Conv '
                          f'(e.g. {unused[:3]})')
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):  # folded: identity in eval mode
            channels = module.num_features
            state[f'{name}.weight'] = torch.ones(channels)
            state[f'{name}.bias'] = torch.zeros(channels)
            state[f'{name}.running_mean'] = torch.zeros(channels)
            state[f'{name}.running_var'] = torch.full((channels, ), 1.0 - module.eps)
            state[f'{name}.num_batches_tracked'] = torch.tensor(0)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise SalboxError(f'{path}: {len(missing)} salbox tensors not filled (e.g. {missing[:3]})')
    model.load_state_dict(state, strict=True)  # shapes and names, once more
    return OrderedDict((key, state[key]) for key in expected)
