"""Synthetic SOD generator: determinism, soft edges, contrast, atomic folders, dataset, CLI."""
import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from salbox.datasets import MSRA10KDataset, SyntheticSalDataset, render_sample
from salbox.datasets import synthetic
from salbox.utils.errors import DataError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_render_is_deterministic_by_seed():
    img_a, mask_a = render_sample(5, seed=3, img_size=(64, 80))
    img_b, mask_b = render_sample(5, seed=3, img_size=(64, 80))
    assert img_a.shape == (64, 80, 3) and img_a.dtype == np.uint8
    assert mask_a.shape == (64, 80) and mask_a.dtype == np.uint8
    assert np.array_equal(img_a, img_b) and np.array_equal(mask_a, mask_b)
    img_c, _ = render_sample(5, seed=4, img_size=(64, 80))
    img_d, _ = render_sample(6, seed=3, img_size=(64, 80))
    assert not np.array_equal(img_a, img_c) and not np.array_equal(img_a, img_d)


def test_masks_have_soft_edges_only_at_boundaries():
    for index in range(5):
        _, mask = render_sample(index, seed=0, img_size=(96, 96))
        soft = (mask > 0) & (mask < 255)
        assert soft.sum() > 10 and (mask == 255).sum() > 100 and (mask == 0).sum() > 100
        # every soft pixel lies within 2 px of both an object pixel and a background pixel
        kernel = np.ones((5, 5), np.uint8)
        near_fg = cv2.dilate((mask >= 128).astype(np.uint8), kernel) > 0
        near_bg = cv2.dilate((mask < 128).astype(np.uint8), kernel) > 0
        assert (near_fg & near_bg)[soft].all()


def test_objects_contrast_with_background():
    """Learnability proxy: objects are more saturated than their surroundings."""
    wins = 0
    for index in range(20):
        img, mask = render_sample(index, seed=0, img_size=(96, 96))
        sat = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)[:, :, 1].astype(float)
        wins += sat[mask > 200].mean() > sat[mask < 50].mean() + 40
    assert wins >= 18


def _read_all(folder, img_dir='images', mask_dir='masks'):
    names = sorted(os.listdir(osp.join(folder, img_dir)))
    return [(cv2.imread(osp.join(folder, img_dir, n)),
             cv2.imread(osp.join(folder, mask_dir, n[:-4] + '.png'), cv2.IMREAD_UNCHANGED))
            for n in names if n.endswith('.jpg')]


def test_folder_is_deterministic_and_complete(tmp_path):
    a = synthetic.write_synthetic_folder(str(tmp_path / 'a'), 4, (48, 48), seed=7)
    b = synthetic.write_synthetic_folder(str(tmp_path / 'b'), 6, (48, 48), seed=7)
    pairs_a, pairs_b = _read_all(a), _read_all(b)
    assert len(pairs_a) == 4 and len(pairs_b) == 6
    for (img_a, mask_a), (img_b, mask_b) in zip(pairs_a, pairs_b):  # same seed: same samples
        assert np.array_equal(img_a, img_b) and np.array_equal(mask_a, mask_b)
    assert synthetic.read_synthetic_meta(a)['seed'] == 7
    with pytest.raises(FileExistsError):
        synthetic.write_synthetic_folder(a, 4, (48, 48), seed=7)


def test_crash_leaves_no_half_folder(tmp_path, monkeypatch):
    real = synthetic.render_sample

    def crash_at_three(index, *args, **kwargs):
        if index == 3:
            raise RuntimeError('boom')
        return real(index, *args, **kwargs)

    monkeypatch.setattr(synthetic, 'render_sample', crash_at_three)
    with pytest.raises(RuntimeError, match='boom'):
        synthetic.write_synthetic_folder(str(tmp_path / 'out'), 6, (32, 32))
    assert os.listdir(tmp_path) == []  # neither the output nor a temporary folder remains


def test_synthetic_dataset_generates_once_and_checks_settings(tmp_path):
    ds = SyntheticSalDataset(data_root=str(tmp_path), split='train', num_images=5,
                             img_size=(32, 40), seed=0)
    assert len(ds) == 5
    info = ds.get_data_info(0)
    assert info['dataset_name'] == 'Synthetic'
    assert info['img_path'] == osp.join(str(tmp_path), 'train', 'images', '000000.jpg')
    stamp = os.path.getmtime(info['img_path'])
    again = SyntheticSalDataset(data_root=str(tmp_path), split='train', num_images=5,
                                img_size=(32, 40), seed=0)
    assert len(again) == 5 and os.path.getmtime(info['img_path']) == stamp  # reused
    with pytest.raises(DataError, match=r'train was not generated with .*seed=1.*seed=0'):
        SyntheticSalDataset(data_root=str(tmp_path), split='train', num_images=5,
                            img_size=(32, 40), seed=1)
    test = SyntheticSalDataset(data_root=str(tmp_path), split='test', num_images=3,
                               img_size=(32, 40), seed=1)
    assert len(test) == 3 and test.get_data_info(0)['img_path'] != info['img_path']


def test_msra10k_layout_reads_as_msra10k(tmp_path):
    ds = SyntheticSalDataset(data_root=str(tmp_path), split='s', num_images=3, img_size=(32, 32),
                             layout='msra10k')
    assert len(ds) == 3
    assert len(MSRA10KDataset(data_root=str(tmp_path / 's'))) == 3


def _load_cli():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'make_synthetic.py')
    spec = importlib.util.spec_from_file_location('make_synthetic', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_writes_layouts(tmp_path, capsys):
    cli = _load_cli()
    out = str(tmp_path / 'syn')
    assert cli.main([out, '--num', '3', '--size', '24', '32', '--seed', '2', '--layout',
                     'msra10k', '--no-progress']) == 0
    files = sorted(os.listdir(osp.join(out, 'Imgs')))
    assert files == ['000000.jpg', '000000.png', '000001.jpg', '000001.png', '000002.jpg',
                     '000002.png']
    assert cv2.imread(osp.join(out, 'Imgs', '000001.jpg')).shape == (24, 32, 3)
    assert np.array_equal(cv2.imread(osp.join(out, 'Imgs', '000001.png'), cv2.IMREAD_UNCHANGED),
                          render_sample(1, seed=2, img_size=(24, 32))[1])
    assert 'wrote 3 image/mask pairs' in capsys.readouterr().out
    assert cli.main([out, '--num', '3', '--no-progress']) == 1
    assert 'already exists' in capsys.readouterr().err
