"""R3Net's layers, L/H neck and RRB head: sizes, data flow and every Table 1 switch."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from salbox.models.backbones import ResNeXt
from salbox.models.heads import R3NetHead
from salbox.models.layers import ASPP, ConvBNPReLU
from salbox.models.necks import R3NetNeck
from salbox.registry import MODELS


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
    # r3net_mmseg.md §1.4, counted from the official layer specs.
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


def test_neck_data_flow_and_align_corners():
    torch.manual_seed(0)
    channels = (8, 8, 16, 32, 64)
    neck = R3NetNeck(in_channels=channels, channels=16).eval()
    feats = fake_features(channels=channels)
    with torch.no_grad():
        low, high = neck(feats)
        size = feats[0].shape[-2:]
        up = lambda x, s: F.interpolate(x, size=s, mode='bilinear', align_corners=True)
        expect_low = neck.reduce_low(torch.cat([feats[0], up(feats[1], size),
                                                up(feats[2], size)], 1))
        h = neck.reduce_high(torch.cat([feats[3], up(feats[4], feats[3].shape[-2:])], 1))
        expect_high = up(h, size)
        assert torch.allclose(low, expect_low, atol=1e-6)
        assert torch.allclose(high, expect_high, atol=1e-6)
        # L reads F1-F3 only, H reads F4-F5 only.
        changed = list(feats)
        changed[3] = torch.randn_like(feats[3])
        low2, high2 = neck(changed)
        assert torch.equal(low, low2) and not torch.allclose(high, high2)
        changed = list(feats)
        changed[0] = torch.randn_like(feats[0])
        low3, high3 = neck(changed)
        assert torch.equal(high, high3) and not torch.allclose(low, low3)
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
def test_residual_switch(residual):
    torch.manual_seed(0)
    head = R3NetHead(in_channels=16, channels=8, residual=residual).eval()
    low, high = torch.randn(1, 16, 8, 8), torch.randn(1, 16, 8, 8)
    with torch.no_grad():
        logits = head((low, high))
        assert torch.allclose(logits[0], head.predict0(high))
        for step, feat in enumerate([low, high] * 3):
            update = head.rrbs[step](logits[step], feat)
            expected = logits[step] + update if residual else update
            assert torch.allclose(logits[step + 1], expected, atol=1e-6)


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
