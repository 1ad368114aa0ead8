"""R3Net's layers, L/H neck and RRB head: sizes, data flow and every Table 1 switch."""
import os.path as osp
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from salbox.models.backbones import ResNeXt
from salbox.models.heads import R3NetHead
from salbox.models.layers import ASPP, ConvBNPReLU
from salbox.models.necks import R3NetNeck
from salbox.registry import MODELS

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools'))
from official_layouts import num_parameters, r3net_6000_layout  # noqa: E402


def count(module):
    return sum(p.numel() for p in module.parameters())


def fake_features(batch=1, size=64, channels=(64, 256, 512, 1024, 2048)):
    """Backbone outputs at strides 4, 4, 8, 16, 32."""
    strides = (4, 4, 8, 16, 32)
    return tuple(torch.randn(batch, c, size // s, size // s) for c, s in zip(channels, strides))


@pytest.fixture(scope='module')
def r3net_parts():
    torch.manual_seed(0)
    return ResNeXt(), R3NetNeck(), R3NetHead()


def test_full_r3net_size_and_forward(r3net_parts):
    backbone, neck, head = r3net_parts
    # Counted from the official layer lists (tests/tools/official_layouts.py).
    assert count(backbone) == 42_128_704
    assert count(neck.reduce_low) == 2_574_595
    assert count(neck.reduce_high) == 8_786_056
    assert count(neck.reduce_high[2]) == 1_116_806
    assert count(head) == 257 + 6 * 444_419
    assert count(backbone) + count(neck) + count(head) == 56_156_126
    for part in r3net_parts:
        part.eval()
    with torch.no_grad():
        low, high = neck(backbone(torch.randn(1, 3, 64, 64)))
        logits = head((low, high))
    assert tuple(low.shape) == tuple(high.shape) == (1, 256, 16, 16)
    assert len(logits) == 7 and all(tuple(x.shape) == (1, 1, 16, 16) for x in logits)


def test_parameter_counts_from_the_official_layer_lists(r3net_parts):
    """Each part against the parameters of its layers in R3Net's model.py (6000.pth layout)."""
    layout = r3net_6000_layout()

    def from_list(*prefixes):
        return num_parameters({k: s for k, s in layout.items() if k.startswith(prefixes)})

    backbone, neck, head = r3net_parts
    assert count(backbone) == from_list('layer')
    assert count(neck.reduce_low) == from_list('reduce_low.')
    assert count(neck.reduce_high) == from_list('reduce_high.')
    assert count(neck.reduce_high[2]) == from_list('reduce_high.6.')
    assert count(head) == from_list('predict')


def test_conv_bn_prelu_block():
    block = ConvBNPReLU(8, 4, kernel_size=3, dilation=2)
    assert [name for name, _ in block.named_children()] == ['conv', 'bn', 'prelu']
    assert block.conv.bias is not None and block.conv.padding == (2, 2)
    assert block.prelu.weight.numel() == 1
    assert tuple(block(torch.randn(2, 8, 9, 9)).shape) == (2, 4, 9, 9)


def test_aspp_layout_and_image_pool_branch():
    aspp = ASPP(256).eval()
    assert [b.conv.dilation for b in aspp.dilated] == [(2, 2), (4, 4), (6, 6)]
    assert aspp.conv1x1.conv.out_channels == 128 and aspp.fuse.conv.in_channels == 640
    assert aspp.fuse.conv.out_channels == 256 and aspp.image_pool.conv.kernel_size == (1, 1)
    x = torch.randn(1, 256, 5, 7)
    with torch.no_grad():
        out = aspp(x)
        # The pooled branch is constant over space (global average, then broadcast).
        pooled = {}
        handle = aspp.fuse.register_forward_pre_hook(lambda m, a: pooled.update(x=a[0]))
        aspp(x)
        handle.remove()
    assert tuple(out.shape) == (1, 256, 5, 7)
    image_pool = pooled['x'][:, 512:]
    assert torch.allclose(image_pool, image_pool[..., :1, :1].expand_as(image_pool))


# ---- an independent, functional R3Net (zijundeng/R3Net model.py) that only reads weights
def randomized_bn(module):
    """Non-trivial BN statistics and PReLU slopes, so an eval-mode BN is not the identity."""
    torch.manual_seed(1)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.2)
            m.running_mean.normal_(0, 0.2)
            m.running_var.uniform_(0.5, 1.5)
        if isinstance(m, nn.PReLU):
            m.weight.data.uniform_(0.1, 0.4)
    return module.eval()


def cbp_ref(x, block, kernel, dilation=1):
    """Conv -> BN (eval) -> PReLU with the official kernel/dilation, padding 'same'."""
    y = F.conv2d(x, block.conv.weight, block.conv.bias, padding=dilation * (kernel // 2),
                 dilation=dilation)
    bn = block.bn
    y = F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
    return F.prelu(y, block.prelu.weight)


def up_ref(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=True)


def aspp_ref(x, aspp):
    """_ASPP: 1x1; 3x3 dilated 2, 4, 6; global pool -> 1x1 -> upsample; cat; 1x1 fuse."""
    branches = [cbp_ref(x, aspp.conv1x1, 1)]
    branches += [cbp_ref(x, b, 3, d) for b, d in zip(aspp.dilated, (2, 4, 6))]
    pooled = cbp_ref(x.mean(dim=(2, 3), keepdim=True), aspp.image_pool, 1)
    branches.append(up_ref(pooled, x.shape[-2:]))
    return cbp_ref(torch.cat(branches, 1), aspp.fuse, 1)


def neck_ref(feats, neck):
    """reduce_low(cat(F1, up F2, up F3)) and up(reduce_high(cat(F4, up F5))) at F1's size."""
    f1, f2, f3, f4, f5 = feats
    size = f1.shape[-2:]
    x = torch.cat([f1, up_ref(f2, size), up_ref(f3, size)], 1)
    for block, k in zip(neck.reduce_low, (3, 3, 1)):
        x = cbp_ref(x, block, k)
    y = torch.cat([f4, up_ref(f5, f4.shape[-2:])], 1)
    y = cbp_ref(cbp_ref(y, neck.reduce_high[0], 3), neck.reduce_high[1], 3)
    y = aspp_ref(y, neck.reduce_high[2])
    return x, up_ref(y, size)


def head_ref(low, high, head, order='LHLHLH', residual=True):
    """S_0 = predict0(H); S_j = S_{j-1} + RRB_j(cat(S_{j-1}, F_j)) (paper Eq. 1)."""
    maps = [F.conv2d(high, head.predict0.weight, head.predict0.bias)]
    for rrb, name in zip(head.rrbs, order):
        x = torch.cat([maps[-1], low if name == 'L' else high], 1)
        x = cbp_ref(cbp_ref(x, rrb.convs[0], 3), rrb.convs[1], 3)
        update = F.conv2d(x, rrb.predict.weight, rrb.predict.bias)
        maps.append(maps[-1] + update if residual else update)
    return maps


def test_neck_matches_the_functional_official_neck():
    torch.manual_seed(0)
    channels = (8, 8, 16, 32, 64)
    neck = randomized_bn(R3NetNeck(in_channels=channels, channels=16))
    feats = fake_features(channels=channels)
    with torch.no_grad():
        low, high = neck(feats)
        expect_low, expect_high = neck_ref(feats, neck)
    assert torch.allclose(low, expect_low, atol=1e-5)
    assert torch.allclose(high, expect_high, atol=1e-5)
    with torch.no_grad():  # L reads F1-F3 only, H reads F4-F5 only
        changed = list(feats)
        changed[3] = torch.randn_like(feats[3])
        low2, high2 = neck(changed)
        assert torch.equal(low, low2) and not torch.allclose(high, high2)
    with torch.device('meta'):
        neck = R3NetNeck()
    assert neck.reduce_low[0].conv.in_channels == 832
    assert neck.reduce_high[0].conv.in_channels == 3072
    assert neck.reduce_low[2].conv.kernel_size == (1, 1)


def test_neck_resnet18_channels_and_no_aspp():
    neck = MODELS.build(dict(type='R3NetNeck', in_channels=(64, 64, 128, 256, 512), channels=64,
                             aspp=False))
    assert not any(isinstance(m, ASPP) for m in neck.modules())
    assert isinstance(neck.reduce_high[2], ConvBNPReLU)
    assert neck.reduce_high[2].conv.kernel_size == (1, 1)
    low, high = neck(fake_features(batch=2, channels=(64, 64, 128, 256, 512)))
    assert tuple(low.shape) == tuple(high.shape) == (2, 64, 16, 16)
    with pytest.raises(ValueError, match='4'):
        neck(fake_features(channels=(64, 64, 128, 256, 512))[:4])


def features_seen_by_rrbs(head, low, high):
    """Which of L/H each RRB call received, in order, and the head's outputs."""
    seen = []

    def record(module, args):
        assert args[1] is low or args[1] is high
        seen.append('L' if args[1] is low else 'H')

    handles = [rrb.register_forward_pre_hook(record) for rrb in head.rrbs]
    with torch.no_grad():
        logits = head((low, high))
    for h in handles:
        h.remove()
    return ''.join(seen), logits


@pytest.mark.parametrize('order,expected', [('LH', 'LHLHLH'), ('HL', 'HLHLHL'),
                                            ('LL', 'LLLLLL'), ('HH', 'HHHHHH')])
def test_feature_order(order, expected):
    head = R3NetHead(in_channels=16, channels=8, feature_order=order).eval()
    low, high = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 8, 8)
    seen, logits = features_seen_by_rrbs(head, low, high)
    assert seen == expected and head.step_features == list(expected)
    assert len(logits) == 7


@pytest.mark.parametrize('num_steps', [0, 1, 3, 7])
def test_num_steps(num_steps):
    head = R3NetHead(num_steps=num_steps).eval()
    assert len(head.rrbs) == num_steps
    assert count(head) == 257 + num_steps * 444_419
    logits = head((torch.randn(1, 256, 8, 8), torch.randn(1, 256, 8, 8)))
    assert len(logits) == num_steps + 1


@pytest.mark.parametrize('residual', [True, False])
@pytest.mark.parametrize('order', ['LH', 'HH'])
def test_head_matches_the_functional_official_head(residual, order):
    torch.manual_seed(0)
    head = randomized_bn(R3NetHead(in_channels=16, channels=8, residual=residual,
                                   feature_order=order))
    low, high = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 8, 8)
    with torch.no_grad():
        logits = head((low, high))
        expected = head_ref(low, high, head, (order * 3)[:6], residual)
    assert len(logits) == len(expected) == 7
    for ours, theirs in zip(logits, expected):
        assert torch.allclose(ours, theirs, atol=1e-5)


def test_shared_weights_reuse_one_block():
    head = R3NetHead(shared_weights=True).eval()
    assert len(head.rrbs) == 1 and count(head) == 257 + 444_419
    low, high = torch.randn(1, 256, 8, 8), torch.randn(1, 256, 8, 8)
    seen, logits = features_seen_by_rrbs(head, low, high)
    assert seen == 'LHLHLH' and len(logits) == 7
    assert len(R3NetHead(num_steps=0, shared_weights=True).rrbs) == 0


def test_head_layout_registry_and_errors():
    head = MODELS.build(dict(type='R3NetHead'))
    assert head.align_corners is True
    assert head.rrbs[0].convs[0].conv.in_channels == 257
    assert head.rrbs[0].convs[1].conv.out_channels == 128
    assert isinstance(head.rrbs[0].predict, nn.Conv2d) and head.rrbs[0].predict.out_channels == 1
    assert head.predict0.kernel_size == (1, 1) and head.predict0.in_channels == 256
    with pytest.raises(ValueError, match='feature_order'):
        R3NetHead(feature_order='LX')
    with pytest.raises(ValueError, match='num_steps'):
        R3NetHead(num_steps=-1)


def test_train_mode_backward():
    neck = R3NetNeck(in_channels=(8, 8, 16, 32, 64), channels=16)
    head = R3NetHead(in_channels=16, channels=8, num_steps=2)
    logits = head(neck(fake_features(batch=2, channels=(8, 8, 16, 32, 64))))
    sum(x.mean() for x in logits).backward()
    assert neck.reduce_low[0].conv.weight.grad is not None
    assert head.rrbs[1].predict.weight.grad is not None
