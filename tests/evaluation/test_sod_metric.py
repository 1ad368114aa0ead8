"""SODMetric as mmengine's Runner uses it: dict samples, grouping, files, errors."""
import json

import cv2
import numpy as np
import pytest
import torch
from eval_pairs import generated_pairs
from mmengine.structures import PixelData

from salbox.evaluation import SODMetric
from salbox.evaluation.functional import METRIC_NAMES, aggregate_statistics, image_statistics
from salbox.registry import METRICS
from salbox.structures import SalDataSample


def sample(pred_u8, gt_u8, name, dataset):
    """A data sample as ``SalDataSample.to_dict()`` gives it: float tensors (1, H, W)."""
    return {
        'pred_sal_map': {'data': torch.from_numpy(pred_u8 / 255).float()[None]},
        'gt_sal_map': {'data': torch.from_numpy(gt_u8 / 255).float()[None]},
        'img_path': f'/data/{dataset}/images/{name}.jpg', 'dataset_name': dataset,
        'ori_shape': pred_u8.shape,
    }


def run(metric, samples, batch=3):
    for start in range(0, len(samples), batch):
        metric.process({}, samples[start:start + batch])
    return metric.evaluate(len(samples))


def expected(pairs, protocol='pysodmetrics'):
    return aggregate_statistics([image_statistics(p, g, protocol) for p, g in pairs], protocol)[0]


def test_groups_by_dataset_and_writes_maps_and_tables(tmp_path):
    pairs_a = generated_pairs(7, seed=21, max_side=50)
    pairs_b = generated_pairs(5, seed=22, max_side=50)
    samples = ([sample(p, g, f'a{i}', 'ECSSD') for i, (p, g) in enumerate(pairs_a)]
               + [sample(p, g, f'b{i}', 'DUTS-TE') for i, (p, g) in enumerate(pairs_b)])
    metric = METRICS.build(dict(type='SODMetric', output_dir=str(tmp_path / 'maps'),
                                results_dir=str(tmp_path / 'results'), plot_curves=True))
    results = run(metric, samples)

    for dataset, pairs in (('ECSSD', pairs_a), ('DUTS-TE', pairs_b)):
        for metric_name, value in expected(pairs).items():
            assert results[f'{dataset}/{metric_name}'] == value
    assert 'maxF' not in results  # two data sets: only prefixed keys

    written = cv2.imread(str(tmp_path / 'maps' / 'ECSSD' / 'a3.png'), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint8 and np.array_equal(written, pairs_a[3][0])
    assert len(list((tmp_path / 'maps' / 'DUTS-TE').glob('*.png'))) == 5

    table = json.loads((tmp_path / 'results' / 'results.json').read_text())
    assert list(table) == ['ECSSD', 'DUTS-TE']
    assert table['ECSSD']['salbox']['wF'] == results['ECSSD/wF']
    markdown = (tmp_path / 'results' / 'results.md').read_text()
    assert 'protocol=pysodmetrics' in markdown and '| DUTS-TE | salbox |' in markdown
    csv_lines = (tmp_path / 'results' / 'results.csv').read_text().splitlines()
    assert csv_lines[0].startswith('dataset,method,MAE,maxF') and len(csv_lines) == 3
    curves = json.loads((tmp_path / 'results' / 'curves.json').read_text())
    assert len(curves['ECSSD']['salbox']['precision']) == 256
    assert (tmp_path / 'results' / 'curves_DUTS-TE.pdf').stat().st_size > 0


def test_single_dataset_adds_plain_keys_and_prefix():
    pairs = generated_pairs(4, seed=23, max_side=40)
    metric = SODMetric(metrics=('MAE', 'maxF'), prefix='sod')
    results = run(metric, [sample(p, g, str(i), 'ECSSD') for i, (p, g) in enumerate(pairs)])
    assert set(results) == {'sod/ECSSD/MAE', 'sod/ECSSD/maxF', 'sod/MAE', 'sod/maxF'}
    assert results['sod/maxF'] == results['sod/ECSSD/maxF']


def test_results_hold_statistics_not_maps():
    pred, gt = generated_pairs(1, seed=24, max_side=100)[0]
    metric = SODMetric()
    metric.process({}, [sample(pred, gt, 'x', 'default')])
    for value in metric.results[0].values():
        assert np.size(value) <= 256


def test_accepts_data_samples_and_protocol_dicts():
    pred, gt = generated_pairs(1, seed=25, max_side=40)[0]
    data_sample = SalDataSample(metainfo=dict(img_path='x.jpg', dataset_name='SOD'))
    data_sample.pred_sal_map = PixelData(data=torch.from_numpy(pred / 255).float()[None])
    data_sample.gt_sal_map = PixelData(data=torch.from_numpy(gt / 255).float()[None])
    metric = SODMetric(protocol=dict(preset='r3net'), metrics=['MAE', 'maxF'])
    results = run(metric, [data_sample])
    assert results['maxF'] == expected([(pred, gt)], 'r3net')['maxF']


def test_bad_pairs_name_the_image():
    pred, gt = generated_pairs(1, seed=26, max_side=40)[0]
    metric = SODMetric()
    bad = sample(pred, gt, 'mismatch', 'ECSSD')
    bad['gt_sal_map']['data'] = bad['gt_sal_map']['data'][:, :-1]
    with pytest.raises(ValueError, match='mismatch.jpg'):
        metric.process({}, [bad])
    bad = sample(pred, gt, 'nan', 'ECSSD')
    bad['pred_sal_map']['data'][0, 0, 0] = float('nan')
    with pytest.raises(ValueError, match='NaN.*nan.jpg|nan.jpg.*NaN'):
        metric.process({}, [bad])
    bad = sample(pred, gt, 'nogt', 'ECSSD')
    del bad['gt_sal_map']
    with pytest.raises(KeyError, match='nogt.jpg'):
        metric.process({}, [bad])
    with pytest.raises(KeyError, match='unknown metric'):
        SODMetric(metrics=['Fbw'])


def test_metric_names_default_to_all():
    assert SODMetric().metrics == METRIC_NAMES
