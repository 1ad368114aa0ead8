"""U²-Netp through the tools on its official weights: tools/test.py with ``pip://u2netp``, the
converter's .pth through tools/deployment/pytorch2onnx.py --verify, and the exported graph
(salbox preprocessing inside) against ONNX Runtime on the official ONNX file itself."""
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from salbox.models.backbones.u2net import u2net_onnx_path  # noqa: E402
from salbox.models.utils.u2net_onnx import onnx_to_state_dict  # noqa: E402
from salbox.utils import load_checkpoint_file  # noqa: E402
from salbox.utils.errors import SalboxError  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/u2net/u2netp_pip.py')
sys.path.insert(0, osp.join(REPO, 'tools/deployment'))
import pytorch2onnx  # noqa: E402


@pytest.fixture(scope='module')
def u2netp_onnx():
    """The official file, for the tests that need it with onnx and onnxruntime."""
    pytest.importorskip('onnx')
    pytest.importorskip('onnxruntime')
    try:
        return u2net_onnx_path('u2netp')
    except SalboxError as err:
        pytest.skip(str(err))

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def test_test_tool_on_pip_weights_writes_min_max_maps(u2netp_onnx, tmp_path):
    """tools/test.py CONFIG pip://u2netp on two generated images (resized to 320x320)."""
    config = tmp_path / 'u2netp_pip_synthetic.py'
    config.write_text(
        f"_base_ = [{CONFIG!r}]\n"
        "test_dataloader = dict(batch_size=1, dataset=dict(_delete_=True, "
        "type='SyntheticSalDataset', data_root='data', split='test', num_images=2, "
        "img_size=(120, 150), seed=3, test_mode=True, pipeline={{_base_.test_pipeline}}))\n")
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/test.py'), str(config), 'pip://u2netp',
         '--work-dir', str(tmp_path / 'work'), '--out', str(tmp_path / 'maps')],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(__import__('os').environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'by u2net_pip backend' in result.stdout + result.stderr
    written = sorted((tmp_path / 'maps' / 'Synthetic').iterdir())
    assert len(written) == 2
    for path in written:
        saved = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert saved.shape == (120, 150)  # back at the image size
        assert saved.min() == 0 and saved.max() == 255  # MinMaxNormalize
    assert 'maxF' in (result.stdout + result.stderr)


def test_infer_tool_on_pip_weights_cuts_out_a_real_photo(u2netp_onnx, tmp_path):
    """tools/infer.py CONFIG pip://u2netp photos/ --cutout: no training, no .pth. The map of
    scikit-image's astronaut is bright on the astronaut and dark in the sky corner."""
    import skimage
    photos = tmp_path / 'photos'
    photos.mkdir()
    image = cv2.imread(osp.join(osp.dirname(skimage.__file__), 'data', 'astronaut.png'))
    cv2.imwrite(str(photos / 'astronaut.png'), image)
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/infer.py'), CONFIG, 'pip://u2netp', str(photos),
         '--out-dir', str(tmp_path / 'out'), '--cutout'],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(__import__('os').environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    saliency = cv2.imread(str(tmp_path / 'out' / 'maps' / 'astronaut.png'), cv2.IMREAD_UNCHANGED)
    cutout = cv2.imread(str(tmp_path / 'out' / 'cutouts' / 'astronaut.png'),
                        cv2.IMREAD_UNCHANGED)
    assert saliency.shape == image.shape[:2] and cutout.shape == (*image.shape[:2], 4)
    assert saliency[200:400, 150:300].mean() > 200 and saliency[:60, -60:].mean() < 30
    np.testing.assert_array_equal(cutout[..., 3], saliency)


def test_test_tool_refuses_pip_weights_of_the_other_size(u2netp_onnx, tmp_path):
    """U²-Netp's weights for the full-size config: one line, before any data is read."""
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/test.py'),
         osp.join(REPO, 'configs/u2net/u2net_pip.py'), 'pip://u2netp',
         '--work-dir', str(tmp_path / 'work')],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(__import__('os').environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: pip://u2netp does not fit the model of the config'), last


def test_export_with_verify_matches_the_official_onnx(u2netp_onnx, tmp_path, capsys):
    checkpoint = str(tmp_path / 'u2netp.pth')
    torch.save(dict(state_dict=onnx_to_state_dict(u2netp_onnx)), checkpoint)
    out = str(tmp_path / 'u2netp_salbox.onnx')
    assert pytorch2onnx.main([CONFIG, checkpoint, '--out', out, '--dynamic', '--verify',
                              '--verify-shape', '320', '320', '--verify-shape', '97', '131']) == 0
    printed = capsys.readouterr().out
    print(printed)
    assert printed.count('max abs difference ONNX Runtime vs PyTorch') == 2

    # An RGB photo whose maximum is below 255: the exported graph (RGB 0-255 in, salbox's
    # scale_by_max and ImageNet statistics inside) against the official file on the official
    # normalisation of the same 320x320 pixels.
    import onnxruntime as ort
    import skimage.data
    rgb = cv2.resize(skimage.data.coffee(), (320, 320), interpolation=cv2.INTER_AREA)
    rgb = (rgb.astype(np.float32) * 0.8).round()
    ours = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    got = ours.run(None, {'image': rgb.transpose(2, 0, 1)[None]})[0]
    official = ort.InferenceSession(u2netp_onnx, providers=['CPUExecutionProvider'])
    x = (rgb / rgb.max() - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    want = official.run(None, {official.get_inputs()[0].name:
                               x.transpose(2, 0, 1)[None].astype(np.float32)})[0]
    diff = float(np.abs(got - want).max())
    print(f'exported salbox U²-Netp vs official u2netp.onnx at 320x320: {diff:.3g}')
    assert diff < 1e-4 and want.std() > 0.05


def test_train_tool_runs_the_synthetic_recipe_with_seven_losses(tmp_path):
    """tools/train.py on a tiny version of u2netp_synthetic.py (2 iterations, 48x48 images)."""
    config = osp.join(REPO, 'configs/u2net/u2netp_synthetic.py')
    options = [
        f'train_dataloader.dataset.data_root={tmp_path / "data"}',
        'train_dataloader.dataset.num_images=4', 'train_dataloader.dataset.img_size=[48,48]',
        'train_dataloader.dataset.pipeline.2.scale=[48,48]',
        'train_dataloader.dataset.pipeline.3.size=40', 'train_dataloader.batch_size=2',
        'train_cfg.max_iters=2', 'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
    ]
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/train.py'), config, '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', *options],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(__import__('os').environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert all(f'loss_sal_{i}:' in log for i in range(7)) and 'loss_sal_7' not in log
    state = load_checkpoint_file(str(tmp_path / 'work' / 'iter_2.pth'))['state_dict']
    assert state['head.outconv.weight'].shape == (1, 6, 1, 1)
    assert state['backbone.stage1.rebnconv1.conv_s1.weight'].shape == (16, 64, 3, 3)  # small
