"""The OpenMMLab model index (model-index.yml -> configs/*/metafile.yml): every listed recipe's
config builds, its metadata and results have the fields the index promises, and (slow) the data
layout it reads is exactly what salbox's converters write. No training, no real data."""
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from salbox.registry import DATASETS, MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVERTERS = osp.join(REPO, 'tools', 'dataset_converters')
METRICS = {'maxF', 'MAE', 'Sm', 'meanEm', 'wF'}


def _models():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    models = []
    for metafile in index['Import']:
        with open(osp.join(REPO, metafile)) as f:
            meta = yaml.safe_load(f)
        collections = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            assert model['In Collection'] in collections, model['Name']
            models.append(model)
    return models


MODELS_IN_INDEX = _models()


def _datasets(dataset):
    if 'datasets' in dataset:
        for member in dataset['datasets']:
            yield from _datasets(member)
    else:
        yield dataset


def test_the_index_lists_at_least_one_recipe():
    assert MODELS_IN_INDEX


@pytest.mark.parametrize('model', MODELS_IN_INDEX, ids=lambda m: m['Name'])
def test_every_recipe_config_builds_and_reports_its_test_sets(model):
    cfg = Config.fromfile(osp.join(REPO, model['Config']))
    init_default_scope('salbox')
    # No weights in CI (a two-stage recipe's backbone is its first stage's).
    cfg.model.get('first_stage', cfg.model).backbone.pop('init_cfg', None)
    MODELS.build(cfg.model)
    meta = model['Metadata']
    for key in ('Training Data', 'Training Resources', 'Training Time', 'Parameters', 'FLOPs'):
        assert key in meta, (model['Name'], key)
    tested = {d['type'] for d in _datasets(cfg.test_dataloader.dataset)}
    names = {'DUTSDataset': 'DUTS-TE', 'ECSSDDataset': 'ECSSD', 'PASCALSDataset': 'PASCAL-S'}
    for result in model['Results']:
        assert result['Task'] == 'Salient Object Detection'
        assert set(result['Metrics']) == METRICS, (model['Name'], result['Dataset'])
        assert result['Dataset'] in {names[t] for t in tested}, result['Dataset']


def _image(path, h, w, seed):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)


def _mask(path, h, w):
    mask = np.zeros((h, w), np.uint8)
    mask[h // 4:h // 2, w // 4:w // 2] = 255
    Image.fromarray(mask).save(path)


def _official_layouts(root):
    """Tiny copies of the folders the converters read: DUTS-TR/TE, ECSSD, Saliency_Matlab."""
    counts = {}
    for split, n in (('TR', 5), ('TE', 4)):
        img = root / 'duts' / f'DUTS-{split}' / f'DUTS-{split}-Image'
        gt = root / 'duts' / f'DUTS-{split}' / f'DUTS-{split}-Mask'
        img.mkdir(parents=True)
        gt.mkdir(parents=True)
        for i in range(n):
            _image(img / f'ILSVRC2012_test_{split}{i:05d}.jpg', 24, 32, i)
            _mask(gt / f'ILSVRC2012_test_{split}{i:05d}.png', 24, 32)
        counts[f'DUTS-{split}'] = n
    for sub in ('images', 'ground_truth_mask'):
        (root / 'ecssd' / sub).mkdir(parents=True)
    for i in range(1, 4):
        _image(root / 'ecssd' / 'images' / f'{i:04d}.jpg', 20, 30, i)
        _mask(root / 'ecssd' / 'ground_truth_mask' / f'{i:04d}.png', 20, 30)
    counts['ECSSD'] = 3
    for sub in ('pascal', 'mask'):
        (root / 'matlab' / 'config' / sub).mkdir(parents=True)
    for i in range(1, 7):
        _image(root / 'matlab' / 'config' / 'pascal' / f'{i}.jpg', 22, 28, i)
        _mask(root / 'matlab' / 'config' / 'mask' / f'{i}.png', 22, 28)
    counts['PASCAL-S'] = 6
    return counts


def _convert(root, data):
    for args in (['duts.py', root / 'duts', '-o', data / 'DUTS'],
                 ['ecssd.py', root / 'ecssd', '-o', data / 'ECSSD'],
                 ['pascal_s_saliency_matlab.py', root / 'matlab', data / 'PASCAL-S',
                  '--num-train', '4']):
        done = subprocess.run([sys.executable, osp.join(CONVERTERS, args[0]), *map(str, args[1:])],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize('model', MODELS_IN_INDEX, ids=lambda m: m['Name'])
def test_recipe_reads_the_layout_the_converters_write(model, tmp_path):
    counts = _official_layouts(tmp_path / 'official')
    data = tmp_path / 'data'
    _convert(tmp_path / 'official', data)
    cfg = Config.fromfile(osp.join(REPO, model['Config']))
    init_default_scope('salbox')
    expected = {('DUTSDataset', 'TR'): counts['DUTS-TR'], ('DUTSDataset', 'TE'): counts['DUTS-TE'],
                ('ECSSDDataset', None): counts['ECSSD'],
                ('PASCALSDataset', None): counts['PASCAL-S']}
    loaders = [cfg.train_dataloader.dataset, cfg.test_dataloader.dataset]
    for dataset_cfg in (d for loader in loaders for d in _datasets(loader)):
        dataset_cfg = dict(dataset_cfg)
        assert dataset_cfg['data_root'].startswith('data/'), dataset_cfg['data_root']
        dataset_cfg['data_root'] = str(data / dataset_cfg['data_root'][len('data/'):])
        dataset = DATASETS.build(dataset_cfg)
        key = (dataset_cfg['type'], dataset_cfg.get('split'))
        assert len(dataset) == expected[key], key
        sample = dataset[0]
        assert sample['inputs'].shape[0] == 3
