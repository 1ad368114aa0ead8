"""MobileNetV2: torchvision's parameter layout, the LDPS taps, freezing."""
import pytest
import torch

from salbox.models.backbones import MobileNetV2

BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
# (expansion, in, out) of features.1..17, written out from Sandler et al. Table 2.
BLOCKS = [(1, 32, 16), (6, 16, 24), (6, 24, 24), (6, 24, 32), (6, 32, 32), (6, 32, 32),
          (6, 32, 64), (6, 64, 64), (6, 64, 64), (6, 64, 64), (6, 64, 96), (6, 96, 96),
          (6, 96, 96), (6, 96, 160), (6, 160, 160), (6, 160, 160), (6, 160, 320)]


def torchvision_state_dict():
    """A state dict laid out as torchvision's ``mobilenet_v2()`` (names and shapes written out
    here from torchvision's module tree, not taken from salbox), classifier included."""
    sd = {}

    def conv(name, cout, cin, k):
        sd[name + '.weight'] = torch.randn(cout, cin, k, k)

    def bn(name, c):
        for key in BN:
            sd[f'{name}.{key}'] = torch.tensor(3) if key == 'num_batches_tracked' else \
                torch.rand(c) + 0.5
    conv('features.0.0', 32, 3, 3)
    bn('features.0.1', 32)
    for idx, (t, cin, cout) in enumerate(BLOCKS, start=1):
        p = f'features.{idx}.conv'
        hidden = cin * t
        if t == 1:
            conv(p + '.0.0', hidden, 1, 3)
            bn(p + '.0.1', hidden)
            conv(p + '.1', cout, hidden, 1)
            bn(p + '.2', cout)
        else:
            conv(p + '.0.0', hidden, cin, 1)
            bn(p + '.0.1', hidden)
            conv(p + '.1.0', hidden, 1, 3)
            bn(p + '.1.1', hidden)
            conv(p + '.2', cout, hidden, 1)
            bn(p + '.3', cout)
    conv('features.18.0', 1280, 320, 1)
    bn('features.18.1', 1280)
    sd['classifier.1.weight'] = torch.randn(1000, 1280)
    sd['classifier.1.bias'] = torch.randn(1000)
    return sd


def test_torchvision_state_dict_loads_without_mapping():
    sd = torchvision_state_dict()
    model = MobileNetV2(with_last_conv=True)
    result = model.load_state_dict(sd, strict=False)
    assert result.missing_keys == []
    assert sorted(result.unexpected_keys) == ['classifier.1.bias', 'classifier.1.weight']
    assert torch.equal(model.features[17].conv[2].weight, sd['features.17.conv.2.weight'])
    # torchvision documents 3,504,872 parameters, 1,281,000 of them in the classifier.
    assert sum(p.numel() for p in model.parameters()) == 3_504_872 - 1_281_000


def test_default_model_stops_at_block_17():
    model = MobileNetV2()
    result = model.load_state_dict(torchvision_state_dict(), strict=False)
    assert result.missing_keys == []
    assert {k.split('.')[0] + '.' + k.split('.')[1] for k in result.unexpected_keys} == \
        {'features.18', 'classifier.1'}


def test_ldps_taps():
    model = MobileNetV2().eval()
    outs = model(torch.zeros(1, 3, 64, 96))
    assert model.out_channels == (32, 24, 96, 320)
    assert [tuple(o.shape[1:]) for o in outs] == [(32, 32, 48), (24, 16, 24), (96, 4, 6),
                                                  (320, 2, 3)]


def test_frozen_stages_and_bad_indices():
    model = MobileNetV2(frozen_stages=3).train()
    assert not any(p.requires_grad for p in model.features[3].parameters())
    assert all(p.requires_grad for p in model.features[4].parameters())
    assert not model.features[0][1].training
    with pytest.raises(ValueError, match='out_indices'):
        MobileNetV2(out_indices=(0, 18))
