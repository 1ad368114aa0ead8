"""Converters of R3Net's official checkpoints.

Two independent sources of the official layouts, neither taken from the converter:
``official_layouts.py`` writes the key lists with shapes of ``resnext_101_32x4d.pth`` and
``6000.pth`` from the official module definitions (zijundeng/R3Net
``resnext/resnext_101_32x4d_.py``, ``model.py``), and the modules below rebuild that structure
so their forward passes give the official outputs the converted salbox model must reproduce.
"""
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from salbox.models.backbones import ResNeXt, ResNet
from salbox.models.heads import R3NetHead
from salbox.models.necks import R3NetNeck
from salbox.models.utils import (convert_r3net_official, convert_resnext_torch7,
                                 infer_resnet_args)
from salbox.utils import load_checkpoint_file
from official_layouts import (imagenet_resnext101_32x4d_layout, num_parameters,
                               r3net_6000_layout, random_state_dict)

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'model_converters'


# ---------------------------------------------------------------- official layout, rebuilt
class ConcatTable(nn.Sequential):
    """Torch7 ConcatTable (clcarwin's ``LambdaMap``): every child on the same input."""

    def forward(self, x):
        return [child(x) for child in self]


class CAddTable(nn.Sequential):
    """Torch7 CAddTable (``LambdaReduce``): sums the list; no parameters."""

    def forward(self, xs):
        return xs[0] + xs[1]


class Identity(nn.Sequential):
    """Torch7 Identity (``Lambda``): a Sequential with no children."""

    def forward(self, x):
        return x


def official_block(cin, width, cout, stride, groups, first):
    main = nn.Sequential(
        nn.Sequential(nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                      nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False),
                      nn.BatchNorm2d(width), nn.ReLU()),
        nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout))
    shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                             nn.BatchNorm2d(cout)) if first else Identity()
    return nn.Sequential(ConcatTable(main, shortcut), CAddTable(), nn.ReLU())


def official_resnext(stage_blocks, groups=32, width_per_group=4):
    """Children 0 conv, 1 BN, 2 ReLU, 3 MaxPool, 4..7 stages, 8 AvgPool, 9 View, 10 fc."""
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for i, num in enumerate(stage_blocks):
        width, cout = groups * width_per_group * 2**i, 256 * 2**i
        layers.append(nn.Sequential(*[
            official_block(cin if b == 0 else cout, width, cout, 2 if (i and b == 0) else 1,
                           groups, b == 0) for b in range(num)]))
        cin = cout
    # 10 is nn.Sequential(Lambda, nn.Linear): the classifier keys are 10.1.weight / 10.1.bias
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Sequential(Identity(), nn.Linear(2048, 1000))]
    return nn.Sequential(*layers)


def cbp_list(cin, cout, k, dilation=1):
    return [nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation),
            nn.BatchNorm2d(cout), nn.PReLU()]


class OfficialASPP(nn.Module):
    def __init__(self, dim=256):
        super().__init__()
        half = dim // 2
        self.conv1 = nn.Sequential(*cbp_list(dim, half, 1))
        self.conv2 = nn.Sequential(*cbp_list(dim, half, 3, 2))
        self.conv3 = nn.Sequential(*cbp_list(dim, half, 3, 4))
        self.conv4 = nn.Sequential(*cbp_list(dim, half, 3, 6))
        self.conv5 = nn.Sequential(*cbp_list(dim, half, 1))
        self.fuse = nn.Sequential(*cbp_list(5 * half, dim, 1))

    def forward(self, x):
        pooled = F.interpolate(self.conv5(F.adaptive_avg_pool2d(x, 1)), size=x.shape[-2:],
                               mode='bilinear', align_corners=True)
        return self.fuse(torch.cat([self.conv1(x), self.conv2(x), self.conv3(x),
                                    self.conv4(x), pooled], 1))


class OfficialR3Net(nn.Module):
    """R3Net's ``model.py`` structure; returns the 7 logits at stride 4 (before upsampling)."""

    def __init__(self, stage_blocks):
        super().__init__()
        net = list(official_resnext(stage_blocks).children())
        self.layer0 = nn.Sequential(*net[:4])
        self.layer1, self.layer2, self.layer3, self.layer4 = net[4:8]
        self.reduce_low = nn.Sequential(*cbp_list(832, 256, 3), *cbp_list(256, 256, 3),
                                        *cbp_list(256, 256, 1))
        self.reduce_high = nn.Sequential(*cbp_list(3072, 256, 3), *cbp_list(256, 256, 3),
                                         OfficialASPP(256))
        self.predict0 = nn.Conv2d(256, 1, 1)
        for i in range(1, 7):
            setattr(self, f'predict{i}', nn.Sequential(
                *cbp_list(257, 128, 3), *cbp_list(128, 128, 3), nn.Conv2d(128, 1, 1)))

    def forward(self, x):
        up = lambda t, s: F.interpolate(t, size=s, mode='bilinear', align_corners=True)
        l0 = self.layer0(x)
        l1 = self.layer1(l0)
        l2 = self.layer2(l1)
        l3 = self.layer3(l2)
        l4 = self.layer4(l3)
        size = l0.shape[-2:]
        low = self.reduce_low(torch.cat([l0, up(l1, size), up(l2, size)], 1))
        high = self.reduce_high(torch.cat([l3, up(l4, l3.shape[-2:])], 1))
        high = up(high, size)
        preds = [self.predict0(high)]
        for i in range(1, 7):
            feat = low if i % 2 else high
            rrb = getattr(self, f'predict{i}')
            preds.append(rrb(torch.cat([preds[-1], feat], 1)) + preds[-1])
        return preds


def randomized(module):
    """Give BN statistics and affine params non-trivial values, so mix-ups show."""
    torch.manual_seed(0)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
        if isinstance(m, nn.PReLU):
            m.weight.data.uniform_(0.1, 0.4)
    return module.eval()


def as_pytorch_040(state_dict):
    """PyTorch 0.4.0 (R3Net's version) did not save ``num_batches_tracked``."""
    return {k: v for k, v in state_dict.items() if not k.endswith('num_batches_tracked')}


def salbox_r3net(depth):
    model = nn.Module()
    model.backbone = ResNeXt(depth=depth)
    model.neck = R3NetNeck()
    model.head = R3NetHead()
    return model


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Examples of official key names (zijundeng/R3Net model.py, resnext/resnext_101_32x4d_.py).
OFFICIAL_KEY_EXAMPLES = [
    'layer0.0.weight', 'layer0.1.weight', 'layer0.1.running_var',
    'layer1.0.0.0.0.0.weight', 'layer1.0.0.0.0.1.running_mean', 'layer1.0.0.0.0.3.weight',
    'layer1.0.0.0.0.4.bias', 'layer1.0.0.0.1.weight', 'layer1.0.0.0.2.weight',
    'layer1.0.0.1.0.weight', 'layer1.0.0.1.1.bias', 'layer4.2.0.0.2.weight',
    'reduce_low.8.weight', 'reduce_high.6.conv5.0.weight', 'reduce_high.6.fuse.1.bias',
    'predict0.weight', 'predict6.6.bias', 'predict3.5.weight',
]


# ---------------------------------------------------------------- tests
@pytest.fixture(scope='module')
def official_r3net50():
    """Official layout with ResNeXt-50 stage sizes (3, 4, 6, 3): same keys, faster."""
    return randomized(OfficialR3Net((3, 4, 6, 3)))


def test_rebuilt_layout_has_reference_key_names(official_r3net50):
    keys = set(official_r3net50.state_dict())
    assert not [k for k in OFFICIAL_KEY_EXAMPLES if k not in keys]
    assert 'layer1.1.0.1.0.weight' not in keys  # identity shortcut after block 0


def test_r3net_resnext101_keys_map_exactly_onto_salbox():
    with torch.device('meta'):
        official = OfficialR3Net((3, 4, 23, 3))
        model = salbox_r3net(101)
    converted = convert_r3net_official(official.state_dict())
    ours = model.state_dict()
    assert set(converted) == set(ours)
    assert all(converted[k].shape == ours[k].shape for k in ours)
    assert sum(v.numel() for k, v in official.named_parameters()) == 56_156_126


def test_converted_r3net_reproduces_official_outputs(official_r3net50):
    converted = convert_r3net_official(as_pytorch_040(official_r3net50.state_dict()))
    model = salbox_r3net(50)
    model.load_state_dict(converted, strict=True)
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = official_r3net50(x)
        logits = model.head(model.neck(model.backbone(x)))
    assert len(logits) == len(expected) == 7
    for ours, theirs in zip(logits, expected):
        assert torch.allclose(ours, theirs, atol=1e-4, rtol=1e-4)


def test_converted_torch7_resnext_reproduces_official_features():
    official = randomized(official_resnext((3, 4, 6, 3)))
    converted = convert_resnext_torch7(as_pytorch_040(official.state_dict()))
    assert {'conv1.weight', 'bn1.running_var', 'layer1.0.downsample.0.weight',
            'layer4.2.conv3.weight', 'fc.weight', 'fc.bias'} <= set(converted)
    backbone = ResNeXt(depth=50)
    result = backbone.load_state_dict(converted, strict=False)
    assert result.missing_keys == [] and sorted(result.unexpected_keys) == ['fc.bias', 'fc.weight']
    backbone.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = official[:8](x)
        stage4 = backbone(x)[-1]
    assert torch.allclose(stage4, expected, atol=1e-4, rtol=1e-4)


def test_torch7_resnext101_keys():
    with torch.device('meta'):
        official = official_resnext((3, 4, 23, 3))
        backbone = ResNeXt()
    converted = convert_resnext_torch7(official.state_dict())
    assert set(converted) == set(backbone.state_dict()) | {'fc.weight', 'fc.bias'}


def test_unknown_keys_are_named():
    good = {'layer0.0.weight': torch.zeros(1)}
    with pytest.raises(KeyError, match='layer9.0.0.0.0.0.weight'):
        convert_r3net_official({**good, 'layer9.0.0.0.0.0.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match='reduce_low.9.weight'):
        convert_r3net_official({**good, 'reduce_low.9.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match='layer1.0.0.0.0.2.weight'):  # a ReLU has no weight
        convert_r3net_official({'layer1.0.0.0.0.2.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match='11.weight'):
        convert_resnext_torch7({'11.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match="'10.weight'"):  # not the official classifier layout
        convert_resnext_torch7({'10.weight': torch.zeros(1)})
    converted = convert_r3net_official({'module.predict0.bias': torch.zeros(1)})
    assert list(converted) == ['head.predict0.bias']


def test_infer_resnet_args():
    for kwargs in (dict(depth=18), dict(depth=50), dict(depth=101, groups=32, width_per_group=4),
                   dict(depth=101, groups=32, width_per_group=8)):
        with torch.device('meta'):
            state = ResNet(**kwargs).state_dict()
        inferred = infer_resnet_args({f'backbone.{k}': v for k, v in state.items()}, 'backbone.')
        assert inferred == dict(dict(groups=1, width_per_group=64), **kwargs)
    with pytest.raises(ValueError, match='blocks per stage'):
        infer_resnet_args({'layer1.0.conv1.weight': torch.zeros(1)})


def test_r3net_tool_end_to_end(tmp_path, official_r3net50):
    tool = load_tool('r3net2salbox')
    src, dst = tmp_path / '6000.pth', tmp_path / 'out' / 'r3net_salbox.pth'
    official = as_pytorch_040(official_r3net50.state_dict())
    torch.save(official, src)
    tool.main([str(src), str(dst)])
    saved = load_checkpoint_file(str(dst))
    expected = tool.convert(official)
    assert list(saved['state_dict']) == list(expected)
    assert all(torch.equal(saved['state_dict'][k], v) for k, v in expected.items())
    torch.save({'layer0.0.weight': torch.zeros(64, 3, 7, 7), 'fc.weight': torch.zeros(1)}, src)
    with pytest.raises(KeyError, match='fc.weight'):
        tool.main([str(src), str(dst)])


# ------------------------------------------------ against the key lists of the official files
def test_rebuilt_modules_have_exactly_the_official_key_lists():
    with torch.device('meta'):
        resnext = official_resnext((3, 4, 23, 3))
        r3net = OfficialR3Net((3, 4, 23, 3))
    for module, layout in ((resnext, imagenet_resnext101_32x4d_layout()),
                           (r3net, r3net_6000_layout())):
        ours = as_pytorch_040(module.state_dict())
        assert list(ours) == list(layout)
        assert all(tuple(ours[k].shape) == layout[k] for k in layout)


def test_official_file_sizes_from_the_layer_lists():
    """Parameter counts computed from the written layer lists: ResNeXt-101 32x4d has
    42,128,704 parameters without its 2048x1000 classifier; R3Net 56,156,126."""
    imagenet = imagenet_resnext101_32x4d_layout()
    assert num_parameters(imagenet) == 42_128_704 + 2048 * 1000 + 1000
    assert num_parameters(r3net_6000_layout()) == 56_156_126


def test_converters_accept_the_official_layouts_with_their_shapes():
    """Every key of the real files converts, onto exactly salbox's keys and shapes."""
    imagenet = {k: torch.empty(s, device='meta') for k, s in
                imagenet_resnext101_32x4d_layout().items()}
    r3net = {k: torch.empty(s, device='meta') for k, s in r3net_6000_layout().items()}
    with torch.device('meta'):
        backbone = ResNeXt(depth=101)
        model = salbox_r3net(101)
    converted = convert_resnext_torch7(imagenet)
    ours = backbone.state_dict()
    assert set(converted) - set(ours) == {'fc.weight', 'fc.bias'}
    assert {k for k in ours if not k.endswith('num_batches_tracked')} <= set(converted)
    assert all(tuple(converted[k].shape) == tuple(ours[k].shape) for k in converted
               if k in ours)
    converted = convert_r3net_official(r3net)
    ours = {k: v for k, v in model.state_dict().items() if not k.endswith('num_batches_tracked')}
    assert set(converted) == set(ours)
    assert all(tuple(converted[k].shape) == tuple(ours[k].shape) for k in ours)


def test_resnext_tool_converts_an_official_layout_file(tmp_path):
    """The tool on a file with the official keys (ResNeXt-50 stage sizes keep it small)."""
    tool = load_tool('resnext101_32x4d2torchvision')
    state = random_state_dict(imagenet_resnext101_32x4d_layout((3, 4, 6, 3)))
    src, dst = tmp_path / 'resnext_101_32x4d.pth', tmp_path / 'tv.pth'
    torch.save(state, src)
    tool.main([str(src), str(dst)])
    saved = load_checkpoint_file(str(dst))
    assert torch.equal(saved['fc.weight'], state['10.1.weight'])
    assert torch.equal(saved['layer3.5.conv2.weight'], state['6.5.0.0.0.3.weight'])
    assert torch.equal(saved['layer2.0.downsample.1.running_var'], state['5.0.0.1.1.running_var'])
