"""ARN's seeded MSRA10K + DUT-OMRON split tool, on folders with the real naming patterns."""
import hashlib
import importlib.util
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from salbox.registry import DATASETS
from salbox.utils.errors import DataError, DatasetNotFoundError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/dataset_converters/arn_split.py')
DATA_CONFIG = osp.join(REPO, 'configs/_base_/datasets/arn_msra10k_dutomron.py')

# MSRA10K_Imgs_GT.zip: numeric ids of varying length, image and mask side by side in Imgs/.
MSRA10K_IDS = ['75', '100', '1003', '10009', '101376', '149968', '22', '4511', '6033', '90000',
               '120', '7']
# DUT-OMRON: "im<number>" and "sun_<20 letters>" names, images and masks in separate folders.
DUT_OMRON_NAMES = ['im005', 'im1003', 'im260', 'sun_aaabhshfqutsklcz', 'sun_bcdnxrbtlvxntqdk',
                   'sun_aqyrrlgcwdqzlufg', 'im10', 'sun_zzkqrbfxtuxoqazp']


def _write_pair(img_path, mask_path, seed):
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(img_path), rng.integers(0, 255, (6, 8, 3), dtype=np.uint8))
    cv2.imwrite(str(mask_path), (rng.random((6, 8)) > 0.5).astype(np.uint8) * 255)


def make_folders(root, reverse=False):
    order = -1 if reverse else 1
    msra = root / 'MSRA10K'
    (msra / 'Imgs').mkdir(parents=True)
    for i, stem in list(enumerate(MSRA10K_IDS))[::order]:
        _write_pair(msra / 'Imgs' / f'{stem}.jpg', msra / 'Imgs' / f'{stem}.png', i)
    dut = root / 'DUT-OMRON'
    (dut / 'DUT-OMRON-image').mkdir(parents=True)
    (dut / 'pixelwiseGT-new-PNG').mkdir()
    for i, stem in list(enumerate(DUT_OMRON_NAMES))[::order]:
        _write_pair(dut / 'DUT-OMRON-image' / f'{stem}.jpg',
                    dut / 'pixelwiseGT-new-PNG' / f'{stem}.png', 100 + i)
    return msra, dut


def load_tool():
    spec = importlib.util.spec_from_file_location('arn_split', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


arn_split = load_tool()


def run_tool(*args):
    """The tool's main in this process (the CLI itself is run once, for the error path)."""
    arn_split.main([str(a) for a in args])


def read(path):
    return path.read_text().split()


def test_split_counts_complement_and_reproducibility(tmp_path):
    msra, dut = make_folders(tmp_path)
    run_tool('--msra10k', msra, '--dut-omron', dut, '--num-msra10k', 7, '--num-dut-omron', 3)
    lists = {(name, split): read(root / f'arn_{split}.txt')
             for name, root in (('msra', msra), ('dut', dut)) for split in ('train', 'test')}
    assert len(lists['msra', 'train']) == 7 and len(lists['msra', 'test']) == 5
    assert len(lists['dut', 'train']) == 3 and len(lists['dut', 'test']) == 5
    for name, stems in (('msra', MSRA10K_IDS), ('dut', DUT_OMRON_NAMES)):
        train, test = lists[name, 'train'], lists[name, 'test']
        assert not set(train) & set(test) and sorted(train + test) == sorted(stems)
        assert train == sorted(train)

    # Same seed, other folder, other creation order: the same lists. Another seed differs.
    other = tmp_path / 'again'
    other.mkdir()
    msra2, dut2 = make_folders(other, reverse=True)
    run_tool('--msra10k', msra2, '--dut-omron', dut2, '--num-msra10k', 7, '--num-dut-omron', 3,
             '--out-dir', other / 'lists')
    assert read(other / 'lists' / 'msra10k_train.txt') == lists['msra', 'train']
    assert read(other / 'lists' / 'dut-omron_test.txt') == lists['dut', 'test']
    run_tool('--msra10k', msra2, '--dut-omron', dut2, '--num-msra10k', 7, '--num-dut-omron', 3,
             '--seed', 5, '--out-dir', other / 's5')
    assert read(other / 's5' / 'msra10k_train.txt') != lists['msra', 'train']


def test_selection_is_the_lowest_sha256_rank():
    stems = [f's{i}' for i in range(50)]
    train, test = arn_split.select(stems, 10, 2018, 'msra10k')
    digests = sorted(stems, key=lambda s: hashlib.sha256(f'2018:msra10k:{s}'.encode())
                     .hexdigest())
    assert train == sorted(digests[:10]) and test == sorted(digests[10:])


def test_lists_load_through_the_concat_dataset_config(tmp_path):
    msra, dut = make_folders(tmp_path)
    run_tool('--msra10k', msra, '--dut-omron', dut, '--num-msra10k', 7, '--num-dut-omron', 3)
    cfg = Config.fromfile(DATA_CONFIG)
    init_default_scope('salbox')
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.datasets[0].data_root = str(msra)
    train_cfg.datasets[1].data_root = str(dut)
    train_set = DATASETS.build(train_cfg)
    assert len(train_set) == 10
    names = [train_set.get_data_info(i)['dataset_name'] for i in range(10)]
    assert names == ['MSRA10K'] * 7 + ['DUT-OMRON'] * 3
    sample = train_set[0]
    assert tuple(sample['inputs'].shape) == (3, 224, 224)
    test_cfg = cfg.test_dataloader.dataset.datasets[0]
    test_cfg.data_root = str(dut)
    dut_test = DATASETS.build(test_cfg)
    stems = {osp.splitext(osp.basename(dut_test.get_data_info(i)['img_path']))[0]
             for i in range(len(dut_test))}
    assert stems == set(read(dut / 'arn_test.txt'))
    val_cfg = cfg.val_dataloader.dataset
    val_cfg.data_root = str(msra)
    assert len(DATASETS.build(val_cfg)) == 5


def test_too_few_images_is_a_one_line_error(tmp_path):
    msra, dut = make_folders(tmp_path)
    with pytest.raises(DataError, match='only 8 image/mask pairs'):
        run_tool('--msra10k', msra, '--dut-omron', dut, '--num-msra10k', 7, '--num-dut-omron', 9)
    result = subprocess.run([sys.executable, TOOL, '--msra10k', str(msra), '--dut-omron',
                             str(dut)], capture_output=True, text=True)  # paper counts
    assert result.returncode == 1
    assert result.stderr.strip() == ('error: msra10k: 6000 training images requested but only '
                                     '12 image/mask pairs were found')
    with pytest.raises(DatasetNotFoundError, match='MSRA10K'):
        run_tool('--msra10k', tmp_path / 'none', '--dut-omron', dut)
