import subprocess
import sys
import os.path as osp

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/analysis_tools/baseline_maps.py')


def test_centre_prior_maps_match_mask_names_and_sizes(tmp_path):
    masks = tmp_path / 'masks'
    masks.mkdir()
    cv2.imwrite(str(masks / 'a.png'), np.zeros((30, 50), np.uint8))
    cv2.imwrite(str(masks / 'b.png'), np.zeros((41, 21), np.uint8))
    out = tmp_path / 'out'
    result = subprocess.run([sys.executable, TOOL, str(masks), str(out)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    a = cv2.imread(str(out / 'a.png'), cv2.IMREAD_GRAYSCALE)
    b = cv2.imread(str(out / 'b.png'), cv2.IMREAD_GRAYSCALE)
    assert a.shape == (30, 50) and b.shape == (41, 21)
    assert a[15, 25] > 240 and a[0, 0] < 10  # bright centre, dark corners


def test_missing_mask_folder_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, TOOL, str(tmp_path / 'nope'), str(tmp_path / 'o')],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f'error: mask folder not found: {tmp_path / "nope"}'
