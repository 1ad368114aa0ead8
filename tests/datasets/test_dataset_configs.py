"""configs/_base_/datasets/*: full pipelines built from the configs through the registries."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from salbox.registry import DATASETS
from salbox.structures import SalDataSample
from salbox.utils.errors import DatasetNotFoundError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs', '_base_', 'datasets')

# (config file, variable, data folder, image folder, mask folder, image suffix, dataset name)
TEST_SETS = [
    ('ecssd.py', 'ecssd_test_dataset', 'ECSSD', 'images', 'ground_truth_mask', '.jpg', 'ECSSD'),
    ('hku_is.py', 'hku_is_test_dataset', 'HKU-IS', 'imgs', 'gt', '.png', 'HKU-IS'),
    ('pascal_s.py', 'pascal_s_test_dataset', 'PASCAL-S', 'images', 'masks', '.jpg', 'PASCAL-S'),
    ('sod.py', 'sod_test_dataset', 'SOD', 'images', 'masks', '.jpg', 'SOD'),
    ('dut_omron.py', 'dut_omron_test_dataset', 'DUT-OMRON', 'DUT-OMRON-image',
     'pixelwiseGT-new-PNG', '.jpg', 'DUT-OMRON'),
    ('duts.py', 'duts_te_test_dataset', 'DUTS', 'DUTS-TE/DUTS-TE-Image', 'DUTS-TE/DUTS-TE-Mask',
     '.jpg', 'DUTS-TE'),
    ('msra10k.py', 'msra10k_test_dataset', 'MSRA10K', 'Imgs', 'Imgs', '.jpg', 'MSRA10K'),
]


def _check_sample(sample, height, width, name):
    inputs, data_sample = sample['inputs'], sample['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, height, width)
    assert isinstance(data_sample, SalDataSample)
    gt = data_sample.gt_sal_map.data
    assert gt.dtype == torch.float32 and gt.shape == (1, height, width)
    assert 0.0 <= gt.min() and gt.max() <= 1.0
    assert data_sample.dataset_name == name


@pytest.mark.parametrize('cfg_file, var, folder, img_dir, gt_dir, suffix, name', TEST_SETS)
def test_each_benchmark_test_dataset_builds(tmp_path, monkeypatch, sal_files, cfg_file, var,
                                            folder, img_dir, gt_dir, suffix, name):
    monkeypatch.chdir(tmp_path)  # configs use data roots relative to the working directory
    sal_files.make_pairs(osp.join('data', folder), ['s1', 's2'], img_dir, gt_dir, suffix)
    cfg = Config.fromfile(osp.join(CONFIGS, cfg_file))
    dataset = DATASETS.build(cfg[var])
    assert len(dataset) == 2
    _check_sample(dataset[0], 12, 16, name)  # original size: test pipelines never resize


def test_sod_testsets_concat_keeps_each_name(tmp_path, monkeypatch, sal_files):
    monkeypatch.chdir(tmp_path)
    counts = [2, 1, 3, 1, 2]  # ECSSD, HKU-IS, PASCAL-S, SOD, DUT-OMRON
    for (_, _, folder, img_dir, gt_dir, suffix, _), count in zip(TEST_SETS[:5], counts):
        sal_files.make_pairs(osp.join('data', folder), ['a', 'b', 'c'][:count], img_dir,
                             gt_dir, suffix)
    cfg = Config.fromfile(osp.join(CONFIGS, 'sod_testsets.py'))
    assert cfg.test_dataloader.sampler.type == 'DefaultSampler'
    assert cfg.test_dataloader.sampler.shuffle is False and cfg.test_dataloader.batch_size == 1
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    names = [dataset[i]['data_samples'].dataset_name for i in range(len(dataset))]
    expected = [name for (*_, name), count in zip(TEST_SETS[:5], counts) for _ in range(count)]
    assert names == expected
    assert sorted(set(names)) == ['DUT-OMRON', 'ECSSD', 'HKU-IS', 'PASCAL-S', 'SOD']


def test_absent_benchmark_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(CONFIGS, 'sod_testsets.py'))
    with pytest.raises(DatasetNotFoundError) as err:
        DATASETS.build(cfg.test_dataloader.dataset)
    message = str(err.value)
    assert '\n' not in message
    assert osp.join(str(tmp_path), 'data', 'ECSSD', 'images') in message
    assert 'docs/datasets.md' in message


@pytest.mark.parametrize('cfg_file, folder, img_dir, gt_dir', [
    ('msra10k.py', 'MSRA10K', 'Imgs', 'Imgs'),
    ('duts.py', 'DUTS', 'DUTS-TR/DUTS-TR-Image', 'DUTS-TR/DUTS-TR-Mask'),
])
def test_r3net_train_pipeline_from_config(tmp_path, monkeypatch, sal_files, cfg_file, folder,
                                          img_dir, gt_dir):
    monkeypatch.chdir(tmp_path)
    root = osp.join('data', folder)
    sal_files.make_pairs(root, ['small'], img_dir, gt_dir)  # 12x16: resized to 300x300
    for stem in ('big1', 'big2'):  # 320x400: cropped
        sal_files.write_image(osp.join(root, img_dir, stem + '.jpg'), 320, 400)
        sal_files.write_mask(osp.join(root, gt_dir, stem + '.png'), 320, 400)
    cfg = Config.fromfile(osp.join(CONFIGS, cfg_file))
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert [t['type'] for t in cfg.train_pipeline] == [
        'LoadSalImageFromFile', 'LoadSalAnnotation', 'RandomCropOrResize', 'RandomFlip',
        'RandomRotate', 'PackSalInputs']
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 3
    for i in range(3):
        _check_sample(dataset[i], 300, 300, dataset.dataset_name)


def test_synthetic_config_dataloaders(tmp_path):
    cfg = Config.fromfile(osp.join(CONFIGS, 'synthetic.py'))
    train, test = cfg.train_dataloader, cfg.test_dataloader
    assert train.dataset.seed != test.dataset.seed
    for loader, num in ((train, 6), (test, 4)):
        loader.dataset.data_root = str(tmp_path)
        loader.dataset.num_images = num
        loader.batch_size = 2
    train_loader = Runner.build_dataloader(train.to_dict(), seed=0)
    batch = next(iter(train_loader))  # pseudo_collate: lists of tensors and samples
    assert len(batch['inputs']) == 2 and batch['inputs'][0].shape == (3, 144, 144)
    gt = batch['data_samples'][0].gt_sal_map.data
    assert gt.shape == (1, 144, 144) and gt.dtype == torch.float32
    soft = ((gt > 0) & (gt < 1)).sum()
    assert soft > 0  # soft mask values survive loading and augmentation
    test_loader = Runner.build_dataloader(test.to_dict(), seed=0)
    assert sum(len(b['inputs']) for b in test_loader) == 4
    sample = test_loader.dataset[0]
    _check_sample(sample, 160, 160, 'Synthetic')
    assert osp.isdir(osp.join(str(tmp_path), 'train')) and osp.isdir(osp.join(str(tmp_path),
                                                                              'test'))
    assert sample['data_samples'].img_path.startswith(osp.join(str(tmp_path), 'test', ''))
