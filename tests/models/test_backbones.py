"""ResNet/ResNeXt backbones: torchvision layout and sizes, outputs, freezing, pretrained load."""
import pytest
import torch
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from salbox.models.backbones import ResNet, ResNeXt
from salbox.registry import MODELS


def count(module):
    return sum(p.numel() for p in module.parameters())


# torchvision's published totals (fc included); the fc is 512 * expansion * 1000 + 1000.
TORCHVISION_TOTALS = [
    (dict(depth=18), 11_689_512, 1),
    (dict(depth=34), 21_797_672, 1),
    (dict(depth=50), 25_557_032, 4),
    (dict(depth=101), 44_549_160, 4),
    (dict(depth=152), 60_192_808, 4),
    (dict(depth=50, groups=32, width_per_group=4), 25_028_904, 4),  # resnext50_32x4d
    (dict(depth=101, groups=32, width_per_group=8), 88_791_336, 4),  # resnext101_32x8d
    (dict(depth=101, groups=32, width_per_group=4), 44_177_704, 4),  # ResNeXt-101 32x4d with its 2048x1000 classifier
]


@pytest.mark.parametrize('kwargs,total_with_fc,expansion', TORCHVISION_TOTALS)
def test_parameter_count_matches_torchvision_without_fc(kwargs, total_with_fc, expansion):
    with torch.device('meta'):
        model = ResNet(**kwargs)
    assert count(model) == total_with_fc - (512 * expansion * 1000 + 1000)


def test_resnext_defaults_are_r3net_backbone():
    with torch.device('meta'):
        model = ResNeXt()
    assert (model.depth, model.groups, model.width_per_group) == (101, 32, 4)
    assert count(model) == 42_128_704
    assert isinstance(model, BaseModule)


def test_torchvision_names_and_resnet_b_strides():
    with torch.device('meta'):
        model = ResNeXt(depth=101)
    keys = set(model.state_dict())
    expected = ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean',
                'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight',
                'layer1.0.bn1.weight', 'layer1.0.conv2.weight', 'layer1.0.bn2.running_var',
                'layer1.0.conv3.weight', 'layer1.0.bn3.bias', 'layer1.0.downsample.0.weight',
                'layer1.0.downsample.1.running_mean', 'layer2.0.downsample.0.weight',
                'layer3.22.conv3.weight', 'layer4.0.downsample.1.weight', 'layer4.2.bn3.bias']
    assert not [k for k in expected if k not in keys]
    assert not [k for k in keys if k.startswith(('fc.', 'layer1.1.downsample', 'layer3.23.'))]
    assert tuple(model.layer1[0].conv2.weight.shape) == (128, 4, 3, 3)
    assert tuple(model.layer4[0].conv2.weight.shape) == (1024, 32, 3, 3)
    assert model.layer2[0].conv1.stride == (1, 1) and model.layer2[0].conv2.stride == (2, 2)
    assert model.layer2[0].downsample[0].stride == (2, 2)
    assert model.conv1.bias is None and model.layer1[0].conv2.bias is None


def test_basic_block_names():
    with torch.device('meta'):
        model = ResNet(depth=18)
    keys = set(model.state_dict())
    assert {'layer1.0.conv2.weight', 'layer4.1.bn2.weight', 'layer2.0.downsample.0.weight'} <= keys
    assert not [k for k in keys if 'conv3' in k or k.startswith('layer1.0.downsample')]
    assert model.layer2[0].conv1.stride == (2, 2)


def test_outputs_shapes_and_stagewise_api():
    model = ResNet(depth=18).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        outs = model(x)
        assert [tuple(o.shape) for o in outs] == [(2, 64, 16, 16), (2, 64, 16, 16),
                                                   (2, 128, 8, 8), (2, 256, 4, 4), (2, 512, 2, 2)]
        # What a recurrent method needs: the stem and the named layers, one by one.
        feat = model.forward_stem(x)
        assert torch.equal(feat, outs[0])
        assert model.res_layers == ['layer1', 'layer2', 'layer3', 'layer4']
        for name, expected in zip(model.res_layers, outs[1:]):
            feat = getattr(model, name)(feat)
            assert torch.allclose(feat, expected)
    assert model.out_channels == (64, 64, 128, 256, 512)


def test_out_indices_strides_and_dilations():
    model = ResNet(depth=50, out_indices=(1, 4), strides=(1, 2, 1, 1),
                   dilations=(1, 1, 2, 4)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 256, 16, 16), (1, 2048, 8, 8)]
    assert model.out_channels == (256, 2048)
    assert all(block.conv2.dilation == (4, 4) and block.conv2.padding == (4, 4)
               for block in model.layer4)
    assert model.layer3[0].conv2.stride == (1, 1)


def test_frozen_stages_and_norm_eval():
    model = ResNet(depth=18, frozen_stages=1)
    model.train()
    frozen = [model.conv1, model.bn1, model.layer1]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.bn1.training and not model.layer1[0].bn1.training
    assert model.layer2[0].bn1.training
    stats = model.layer1[0].bn1.running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert torch.equal(stats, model.layer1[0].bn1.running_mean)
    assert not torch.equal(torch.zeros_like(stats), model.layer2[0].bn1.running_mean)

    model = ResNet(depth=18, norm_eval=True).train()
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    assert model.training and all(p.requires_grad for p in model.parameters())


def test_loads_torchvision_checkpoint_with_pretrained_init(tmp_path):
    source = ResNet(depth=18)
    state = {k: torch.randn_like(v, dtype=torch.float32) if v.is_floating_point() else v
             for k, v in source.state_dict().items()}
    state['fc.weight'] = torch.randn(1000, 512)
    state['fc.bias'] = torch.randn(1000)
    path = tmp_path / 'resnet18_torchvision.pth'
    torch.save(state, path)
    model = ResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in loaded)


def test_registry_and_errors():
    model = MODELS.build(dict(type='ResNeXt', depth=50))
    assert isinstance(model, ResNeXt) and model.groups == 32
    with pytest.raises(KeyError, match='depth 20'):
        ResNet(depth=20)
    with pytest.raises(ValueError, match='groups=1'):
        ResNet(depth=18, groups=32, width_per_group=4)
    with pytest.raises(ValueError, match='out_indices'):
        ResNet(depth=18, out_indices=(5,))
    with pytest.raises(ValueError, match='strides'):
        ResNet(depth=18, strides=(1, 2, 2))
