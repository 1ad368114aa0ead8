"""State-dict key mapping from R3Net's official checkpoints to salbox names.

Two official layouts (``zijundeng/R3Net``: ``resnext/resnext_101_32x4d_.py``, ``model.py``):

- the Torch7-converted ImageNet ResNeXt-101 32x4d (``resnext_101_32x4d.pth``): one flat
  ``nn.Sequential`` with ``0`` conv1, ``1`` bn1, ``4``..``7`` the stages, ``10`` fc;
- R3Net's ``6000.pth``: ``layer0.0`` conv1, ``layer0.1`` bn1, ``layer1``..``layer4`` the stages,
  ``reduce_low``/``reduce_high`` (flat Conv/BN/PReLU sequences, then ``_ASPP`` at
  ``reduce_high.6``) and ``predict0``..``predict6``.

Inside a stage, block ``b`` is ``Sequential(LambdaMap(main, shortcut), CAdd, ReLU)`` with
``main = Sequential(Sequential(conv1, bn1, relu, conv2, bn2, relu), conv3, bn3)``, so e.g.
``layer1.0.0.0.0.0.weight`` is torchvision's ``layer1.0.conv1.weight``.
"""
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Tuple

# Block-internal path (after ``<stage>.<block>.``) -> torchvision module name.
TORCH7_BLOCK_PARTS: Dict[str, str] = {
    '0.0.0.0': 'conv1',
    '0.0.0.1': 'bn1',
    '0.0.0.3': 'conv2',
    '0.0.0.4': 'bn2',
    '0.0.1': 'conv3',
    '0.0.2': 'bn3',
    '0.1.0': 'downsample.0',
    '0.1.1': 'downsample.1',
}
# Position inside a flat ``Conv, BN, PReLU`` triple -> salbox ``ConvBNPReLU`` child.
CBP_PARTS = ('conv', 'bn', 'prelu')
# Official ``_ASPP`` branches -> salbox ``ASPP`` children.
ASPP_BRANCHES = {'conv1': 'conv1x1', 'conv2': 'dilated.0', 'conv3': 'dilated.1',
                 'conv4': 'dilated.2', 'conv5': 'image_pool', 'fuse': 'fuse'}
# Official RRB sequence: two Conv/BN/PReLU triples then the 1x1 prediction conv at index 6.
RRB_OUT_INDEX = 6

_PARAM = r'(?P<param>weight|bias|running_mean|running_var|num_batches_tracked)'


def _block_name(block: str, path: str) -> Optional[str]:
    part = TORCH7_BLOCK_PARTS.get(path)
    return None if part is None else f'{block}.{part}'


def _cbp_name(index: int) -> str:
    return f'{index // 3}.{CBP_PARTS[index % 3]}'


def _apply_rules(state_dict: Mapping, rules: List[Tuple[str, Callable]],
                 source: str) -> 'OrderedDict':
    compiled = [(re.compile(pattern), fn) for pattern, fn in rules]
    converted, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        name = key[len('module.'):] if key.startswith('module.') else key
        new_key = None
        for pattern, fn in compiled:
            match = pattern.fullmatch(name)
            if match:
                new_key = fn(match)
                break
        if new_key is None:
            unknown.append(key)
            continue
        if new_key in converted:
            raise KeyError(f'{source}: two keys map to {new_key!r} (second: {key!r})')
        converted[new_key] = value
    if unknown:
        shown = ', '.join(repr(k) for k in unknown[:10])
        more = f' and {len(unknown) - 10} more' if len(unknown) > 10 else ''
        raise KeyError(f'{source}: {len(unknown)} key(s) do not follow the expected layout: '
                       f'{shown}{more}')
    return converted


def _stage_block_rule(stage_pattern: str, stage_name: Callable, prefix: str):
    def convert(m):
        name = _block_name(m['block'], m['path'])
        return None if name is None else f"{prefix}{stage_name(m['stage'])}.{name}.{m['param']}"
    return (rf'(?P<stage>{stage_pattern})\.(?P<block>\d+)\.(?P<path>(?:\d+\.)*\d+)\.{_PARAM}',
            convert)


def convert_resnext_torch7(state_dict: Mapping) -> 'OrderedDict':
    """Torch7-converted ResNeXt (``0.*``, ``1.*``, ``4.b...``-``7.b...``, ``10.*``) ->
    torchvision names (``conv1``, ``bn1``, ``layerK.b.*``, ``fc``). Raises ``KeyError`` naming
    every key that does not fit the layout."""
    rules = [
        (rf'0\.(?P<param>weight)', lambda m: f"conv1.{m['param']}"),
        (rf'1\.{_PARAM}', lambda m: f"bn1.{m['param']}"),
        (r'10\.(?P<param>weight|bias)', lambda m: f"fc.{m['param']}"),
        _stage_block_rule('[4-7]', lambda s: f'layer{int(s) - 3}', ''),
    ]
    return _apply_rules(state_dict, rules, 'Torch7 ResNeXt checkpoint')


def convert_r3net_official(state_dict: Mapping, backbone_prefix: str = 'backbone.',
                           neck_prefix: str = 'neck.',
                           head_prefix: str = 'head.') -> 'OrderedDict':
    """R3Net ``6000.pth`` keys -> salbox ``R3Net`` (``SaliencyDetector``) keys: ResNeXt with
    torchvision names under ``backbone.``, ``R3NetNeck`` under ``neck.``, ``R3NetHead`` under
    ``head.``. A leading ``module.`` (DataParallel) is dropped. Raises ``KeyError`` naming every
    key that does not fit the layout."""
    bb, neck, head = backbone_prefix, neck_prefix, head_prefix

    def low(m):
        index = int(m['index'])
        return f"{neck}reduce_low.{_cbp_name(index)}.{m['param']}" if index < 9 else None

    def high(m):
        index = int(m['index'])
        return f"{neck}reduce_high.{_cbp_name(index)}.{m['param']}" if index < 6 else None

    def aspp(m):
        index = int(m['index'])
        if index > 2:
            return None
        return (f"{neck}reduce_high.2.{ASPP_BRANCHES[m['branch']]}.{CBP_PARTS[index]}."
                f"{m['param']}")

    def rrb(m):
        step, index = int(m['step']), int(m['index'])
        if index < RRB_OUT_INDEX:
            return f"{head}rrbs.{step - 1}.convs.{_cbp_name(index)}.{m['param']}"
        if index == RRB_OUT_INDEX:
            return f"{head}rrbs.{step - 1}.predict.{m['param']}"
        return None

    rules = [
        (r'layer0\.0\.(?P<param>weight)', lambda m: f"{bb}conv1.{m['param']}"),
        (rf'layer0\.1\.{_PARAM}', lambda m: f"{bb}bn1.{m['param']}"),
        _stage_block_rule('layer[1-4]', lambda s: s, bb),
        (rf'reduce_low\.(?P<index>\d+)\.{_PARAM}', low),
        (rf'reduce_high\.6\.(?P<branch>conv[1-5]|fuse)\.(?P<index>\d+)\.{_PARAM}', aspp),
        (rf'reduce_high\.(?P<index>\d+)\.{_PARAM}', high),
        (r'predict0\.(?P<param>weight|bias)', lambda m: f"{head}predict0.{m['param']}"),
        (rf'predict(?P<step>[1-6])\.(?P<index>\d+)\.{_PARAM}', rrb),
    ]
    return _apply_rules(state_dict, rules, 'R3Net checkpoint')
