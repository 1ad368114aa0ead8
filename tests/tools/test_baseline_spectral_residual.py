"""baseline_maps.py --kind spectral_residual (OpenCV contrib's spectral residual saliency)."""
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/analysis_tools/baseline_maps.py')


def make_pair(tmp_path):
    masks, images = tmp_path / 'masks', tmp_path / 'images'
    masks.mkdir()
    images.mkdir()
    image = np.full((96, 128, 3), 120, np.uint8)
    image[30:50, 80:104] = (20, 40, 230)  # one small red patch on a flat background
    cv2.imwrite(str(images / 'a.jpg'), image)
    cv2.imwrite(str(masks / 'a.png'), np.zeros((96, 128), np.uint8))
    return masks, images


@pytest.mark.skipif(not hasattr(cv2, 'saliency'),
                    reason='needs opencv-contrib-python-headless (cv2.saliency)')
def test_spectral_residual_peaks_on_the_odd_patch(tmp_path):
    masks, images = make_pair(tmp_path)
    out = tmp_path / 'out'
    result = subprocess.run([sys.executable, TOOL, str(masks), str(out), '--kind',
                             'spectral_residual', '--images', str(images)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    sal = cv2.imread(str(out / 'a.png'), cv2.IMREAD_GRAYSCALE).astype(float)
    assert sal.shape == (96, 128) and sal.max() == 255
    assert sal[25:55, 75:109].mean() > 3 * sal[60:, :60].mean()


def test_spectral_residual_without_images_is_one_line(tmp_path):
    masks, _ = make_pair(tmp_path)
    result = subprocess.run([sys.executable, TOOL, str(masks), str(tmp_path / 'out'), '--kind',
                             'spectral_residual'], capture_output=True, text=True)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert '--images' in result.stderr


@pytest.mark.skipif(not hasattr(cv2, 'saliency'),
                    reason='needs opencv-contrib-python-headless (cv2.saliency)')
def test_spectral_residual_smoothing_is_a_gaussian_of_the_short_side(tmp_path):
    masks, images = make_pair(tmp_path)
    maps = {}
    for smooth in ('0', '0.05'):
        out = tmp_path / f'out{smooth}'
        subprocess.run([sys.executable, TOOL, str(masks), str(out), '--kind', 'spectral_residual',
                        '--images', str(images), '--smooth', smooth], check=True)
        maps[smooth] = cv2.imread(str(out / 'a.png'), cv2.IMREAD_GRAYSCALE).astype(np.float32)
    raw = cv2.saliency.StaticSaliencySpectralResidual_create().computeSaliency(
        cv2.imread(str(images / 'a.jpg')))[1].astype(np.float32)
    expected = cv2.GaussianBlur(raw, (0, 0), sigmaX=0.05 * 96)
    expected = 255 * (expected - expected.min()) / (expected.max() - expected.min())
    assert np.abs(maps['0.05'] - expected).max() <= 1.0  # 8-bit rounding
    assert np.abs(maps['0.05'] - maps['0']).max() > 20  # smoothing changed the map
