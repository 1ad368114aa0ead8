"""tools/deployment/pytorch2onnx.py on R3Net, the DGRL RLN, the BRN and ARN: tiny checkpoints
made here from the configs (small widths via cfg-options), exported with dynamic sizes, and ONNX
Runtime compared with PyTorch's own prediction path at real sizes other than the traced one."""
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')

from mmengine.structures import PixelData  # noqa: E402

from salbox.apis.inference import init_model  # noqa: E402
from salbox.structures import SalDataSample  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/deployment/pytorch2onnx.py')
sys.path.insert(0, osp.dirname(TOOL))
import pytorch2onnx  # noqa: E402

R3NET = ('configs/r3net/r3net_resnet18_synthetic.py',
         ['model.neck.channels=16', 'model.head.in_channels=16', 'model.head.channels=8',
          'model.postprocessors=[]'])
RLN = ('configs/dgrl/dgrl_rln_r18_synthetic.py',
       ['model.head.channels=8', 'model.head.context_channels=4'])
# the BRN's full test path: nearest resize to test_size, binarised prior, min-max
BRN = ('configs/dgrl/dgrl_brn_synthetic.py',
       ['model.refiner.test_size=[96,80]', 'model.refiner.binarize_prior=True',
        'model.refiner.channels=[8,8,8,8,8,8]'])
REAL_SIZES = [(320, 320), (240, 400)]

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def _options(pairs):
    from mmengine.config import DictAction
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    return parser.parse_args(['--o', *pairs]).o


def _checkpoint(tmp_path, config, options, seed=0):
    """A checkpoint of the config's model: random init, the BRN moved off its identity start."""
    torch.manual_seed(seed)
    model = init_model(osp.join(REPO, config), None, cfg_options=_options(options))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith('refiner.'):
                param.add_(torch.randn_like(param) * 0.05)
    path = str(tmp_path / 'model.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    return path, model.eval()


def _export(tmp_path, capsys, config, options, extra=()):
    """Export with --dynamic at the default trace size (255x255) and --verify; the measured
    differences by (H, W)."""
    ckpt, model = _checkpoint(tmp_path, config, options)
    out = str(tmp_path / 'model.onnx')
    verify = [] if '--verify-shape' in extra else \
        ['--verify-shape', '320', '320', '--verify-shape', '240', '400']
    argv = [osp.join(REPO, config), ckpt, '--out', out, '--dynamic', '--verify', *verify,
            *extra, '--cfg-options', *options]
    assert pytorch2onnx.main(argv) == 0
    printed = capsys.readouterr().out
    diffs = {tuple(map(int, m[:2])): float(m[2]) for m in re.findall(
        r'verify (\d+)x(\d+) \(batch \d+\): max abs difference ONNX Runtime vs PyTorch = (\S+)',
        printed)}
    print(printed)  # the measured differences stay in the test log
    return model, out, diffs


def _image(shape, seed):
    return pytorch2onnx.sample_inputs(['image', 'prior'], shape, seed=seed)


@pytest.mark.parametrize('config,options', [R3NET, RLN], ids=['r3net', 'dgrl_rln'])
def test_detector_export_matches_predict_at_real_sizes(config, options, tmp_path, capsys):
    model, out, diffs = _export(tmp_path, capsys, config, options)
    assert set(diffs) == set(REAL_SIZES) and max(diffs.values()) < 1e-4
    # independent of the export wrapper: the detector's own predict() on the normalised image
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    pre = model.data_preprocessor
    for i, shape in enumerate([(200, 136)]):  # neither the export nor a verify size
        image, _ = _image(shape, seed=10 + i)
        onnx_map = session.run(None, {'image': image.numpy()})[0][0]
        with torch.no_grad():
            sample = model.predict((image - pre.mean) / pre.std)[0]
        torch_map = sample.pred_sal_map.data.numpy()
        assert onnx_map.shape == torch_map.shape == (1, *shape)
        assert np.abs(onnx_map - torch_map).max() < 1e-4
        assert onnx_map.std() > 1e-3  # not a constant map


def test_brn_export_with_two_inputs_matches_its_postprocess(tmp_path, capsys):
    model, out, diffs = _export(tmp_path, capsys, *BRN, extra=['--verify-batch', '2'])
    assert set(diffs) == set(REAL_SIZES) and max(diffs.values()) < 1e-4
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == ['image', 'prior']
    image, prior = _image((150, 210), seed=5)
    got = session.run(None, {'image': image.numpy(), 'prior': prior.numpy()})[0][0]
    want = model.refiner.refine(image[0].to(torch.uint8), prior[0])[1].numpy()
    assert np.abs(got - want).max() < 1e-4
    # the refinement is not the identity: it changes the (binarised) prior
    assert np.abs(got - (prior[0].numpy() >= 0.5)).max() > 0.05


def test_command_line_as_a_user_runs_it(tmp_path):
    ckpt, _ = _checkpoint(tmp_path, *BRN)
    out = tmp_path / 'brn.onnx'
    result = subprocess.run(
        [sys.executable, TOOL, osp.join(REPO, BRN[0]), ckpt, '--out', str(out), '--dynamic',
         '--verify', '--verify-shape', '320', '320', '--cfg-options', *BRN[1]],
        capture_output=True, text=True, env={'OMP_NUM_THREADS': '1', 'PATH': ''}, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'exported BoundaryRefinementNet' in result.stdout and out.is_file()
    assert re.search(r'verify 320x320 \(batch 1\): max abs difference ONNX Runtime vs PyTorch',
                     result.stdout)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    # run_friendly (the script's entry) prints SalboxError messages as one "error:" line
    with pytest.raises(SalboxError, match='^checkpoint not found: nope.pth$'):
        pytorch2onnx.main([osp.join(REPO, BRN[0]), 'nope.pth', '--out', str(tmp_path / 'x')])


def test_two_stage_part_detector_matches_predict(tmp_path, capsys):
    """--part detector on a RefinedDetector: RLN map then the BRN's refine, in one graph."""
    options = ['model.first_stage.head.channels=8', 'model.first_stage.head.context_channels=4',
               'model.refiner.channels=[8,8,8,8,8,8]', 'model.first_stage_checkpoint=None']
    model, out, diffs = _export(tmp_path, capsys, 'configs/dgrl/dgrl_rln_r18_brn_synthetic.py',
                                options, extra=['--part', 'detector', '--verify-shape', '96',
                                                '136'])
    assert set(diffs) == {(96, 136)} and diffs[(96, 136)] < 1e-4
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    image, _ = _image((120, 88), seed=7)
    got = session.run(None, {'image': image.numpy()})[0][0]
    pre = model.data_preprocessor
    sample = SalDataSample(metainfo=dict(ori_shape=(120, 88), img_shape=(120, 88)))
    sample.ori_img = PixelData(data=image[0].to(torch.uint8))  # as PackSalInputs packs it
    with torch.no_grad():
        want = model.predict((image - pre.mean) / pre.std, [sample])[0].pred_sal_map.data
    assert np.abs(got - want.numpy()).max() < 1e-4


@pytest.mark.parametrize('bgr_to_rgb', [True, False])
def test_graph_input_is_rgb_whatever_the_model_was_trained_on(bgr_to_rgb):
    """The graph takes RGB 0-255 and reproduces the config's preprocessor, which receives
    cv2's BGR images (bgr_to_rgb=False models, e.g. ARN's VGG mean in BGR, get BGR)."""
    from salbox.models.data_preprocessor import SalDataPreProcessor
    pre = SalDataPreProcessor(mean=[103.9, 116.8, 123.7], std=[57.0, 58.0, 59.0],
                              bgr_to_rgb=bgr_to_rgb)
    detector = torch.nn.Module()
    detector.data_preprocessor = pre
    detector.final_logits = lambda x: x
    wrapper = pytorch2onnx.DetectorForExport(detector)
    rgb = torch.randint(0, 256, (1, 3, 5, 7), dtype=torch.uint8)
    bgr = rgb.flip(1)  # what LoadSalImageFromFile hands the preprocessor
    want = pre(dict(inputs=[bgr[0]]))['inputs']
    assert torch.allclose(wrapper.preprocess(rgb.float()), want, atol=1e-6)


ARN_CONFIG = 'configs/arn/arn_vgg16_synthetic.py'


@pytest.mark.skipif(not osp.isfile(osp.join(REPO, ARN_CONFIG)),
                    reason='ARN is not in this checkout yet')
def test_arn_exports_through_the_generic_detector_path(tmp_path, capsys):
    """ARN (a BGR-trained VGG detector) needs no exporter code of its own.

    Tolerance 1e-3 (not 1e-4): untrained, on std-1 VGG inputs, its logits reach about 50,
    so float32 rounding alone moves a boundary pixel's probability by ~1e-4 (9.9e-5 measured); a
    wrong graph differs by 0.1-1."""
    model, out, diffs = _export(tmp_path, capsys, ARN_CONFIG, ['model.postprocessors=[]'],
                                extra=['--verify-shape', '257', '263', '--atol', '1e-3'])
    assert set(diffs) == {(257, 263)} and diffs[(257, 263)] < 1e-3
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    image, _ = _image((200, 136), seed=4)
    pre = model.data_preprocessor
    with torch.no_grad():  # the model sees cv2's BGR order
        want = model.predict((image.flip(1) - pre.mean) / pre.std)[0].pred_sal_map.data
    got = session.run(None, {'image': image.numpy()})[0][0]
    assert np.abs(got - want.numpy()).max() < 1e-3
