"""PASCAL-S converter on a tiny generated Saliency_Matlab-like snapshot."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from salbox.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/dataset_converters/pascal_s_saliency_matlab.py')
sys.path.insert(0, osp.join(REPO, 'tools/dataset_converters'))
import pascal_s_saliency_matlab as converter  # noqa: E402


def make_snapshot(root, num=12, mask_mode='L'):
    """config/pascal/<n>.jpg + config/mask/<n>.png with soft levels, plus the stray files."""
    img_dir, mask_dir = root / 'config' / 'pascal', root / 'config' / 'mask'
    img_dir.mkdir(parents=True)
    mask_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for n in range(1, num + 1):
        h, w = 20 + n, 30
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(img_dir / f'{n}.jpg')
        mask = np.zeros((h, w), np.uint8)
        mask[5:15, 5:20] = 255
        mask[0:3, 0:3] = 21  # a soft level, as PASCAL-S has
        Image.fromarray(mask).convert(mask_mode).save(mask_dir / f'{n}.png')
    (img_dir / '1.bmp').write_bytes(b'BM')  # the snapshot's stray files are ignored
    (img_dir / 'Thumbs.db').write_bytes(b'x')
    (mask_dir / 'imgList.mat').write_bytes(b'x')
    return root


def run(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True, text=True)


def test_converts_layout_and_writes_seeded_disjoint_split(tmp_path):
    snapshot = make_snapshot(tmp_path / 'snap')
    out = tmp_path / 'PASCAL-S'
    result = run(snapshot, out, '--num-train', 9, '--seed', 3)
    assert result.returncode == 0, result.stderr
    train = (out / 'train.txt').read_text().split()
    test = (out / 'test.txt').read_text().split()
    assert len(train) == 9 and len(test) == 3
    assert sorted(train + test, key=int) == [str(n) for n in range(1, 13)]
    # Same seed, same split; another seed, another split.
    again = tmp_path / 'again'
    assert run(snapshot, again, '--num-train', 9, '--seed', 3).returncode == 0
    assert (again / 'test.txt').read_text().split() == test
    other = converter.split_stems([str(n) for n in range(1, 13)], 9, seed=4)[1]
    assert other != test
    # Bytes copied unchanged; the data set class reads the split with soft masks intact.
    src = snapshot / 'config'
    assert (out / 'images' / '7.jpg').read_bytes() == (src / 'pascal' / '7.jpg').read_bytes()
    assert (out / 'masks' / '7.png').read_bytes() == (src / 'mask' / '7.png').read_bytes()
    assert not (out / 'images' / '1.bmp').exists()
    dataset = DATASETS.build(dict(type='PASCALSDataset', data_root=str(out), ann_file='test.txt'))
    assert [osp.basename(dataset.get_data_info(i)['img_path']) for i in range(3)] == \
        [s + '.jpg' for s in test]


def test_non_gray_masks_become_8bit_gray(tmp_path):
    snapshot = make_snapshot(tmp_path / 'snap', num=3, mask_mode='RGB')
    out = tmp_path / 'out'
    assert run(snapshot / 'config', out, '--num-train', 2).returncode == 0
    mask = Image.open(out / 'masks' / '2.png')
    assert mask.mode == 'L'
    assert set(np.unique(np.array(mask))) == {0, 21, 255}


def test_size_mismatch_is_one_line_naming_the_files(tmp_path):
    snapshot = make_snapshot(tmp_path / 'snap', num=3)
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(snapshot / 'config' / 'mask' / '2.png')
    result = run(snapshot, tmp_path / 'out', '--num-train', 2)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'size mismatch' in lines[0] and '2.png' in lines[0]
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('problem', ['missing_mask', 'no_folders'])
def test_bad_snapshot_is_one_line(tmp_path, problem):
    snapshot = make_snapshot(tmp_path / 'snap', num=3)
    if problem == 'missing_mask':
        (snapshot / 'config' / 'mask' / '3.png').unlink()
        expected = '1 images without a mask'
    else:
        snapshot = tmp_path / 'empty'
        snapshot.mkdir()
        expected = 'no pascal/ and mask/ folders'
    result = run(snapshot, tmp_path / 'out')
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr
