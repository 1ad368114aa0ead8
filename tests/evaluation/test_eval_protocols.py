"""Protocol presets against direct implementations of the published evaluation code."""
import numpy as np
import pytest
from eval_pairs import edge_case_pairs, generated_pairs

from salbox.evaluation import PRESETS, EvalProtocol, get_protocol
from salbox.evaluation.functional import METRIC_NAMES, aggregate_statistics, image_statistics


def scores(pairs, protocol, metrics=None):
    stats = [image_statistics(p, g, protocol, metrics) for p, g in pairs]
    return aggregate_statistics(stats, protocol, metrics)


# --- R3Net, written from zijundeng/R3Net misc.py + infer.py -----------------------------
class AvgMeter:
    def __init__(self):
        self.sum, self.count, self.avg = 0, 0, 0

    def update(self, val, n=1):
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def r3net_cal_precision_recall_mae(prediction, gt):
    eps = 1e-4
    prediction = prediction / 255.
    gt = gt / 255.
    mae = np.mean(np.abs(prediction - gt))
    hard_gt = np.zeros(prediction.shape)
    hard_gt[gt > 0.5] = 1
    t = np.sum(hard_gt)
    precision, recall = [], []
    for threshold in range(256):
        threshold = threshold / 255.
        hard_prediction = np.zeros(prediction.shape)
        hard_prediction[prediction > threshold] = 1
        tp = np.sum(hard_prediction * hard_gt)
        p = np.sum(hard_prediction)
        precision.append((tp + eps) / (p + eps))
        recall.append((tp + eps) / (t + eps))
    return precision, recall, mae


def r3net_cal_fmeasure(precision, recall):
    beta_square = 0.3
    return max([(1 + beta_square) * p * r / (beta_square * p + r)
                for p, r in zip(precision, recall)])


def r3net_evaluate(pairs):
    precision_record = [AvgMeter() for _ in range(256)]
    recall_record = [AvgMeter() for _ in range(256)]
    mae_record = AvgMeter()
    for prediction, gt in pairs:
        precision, recall, mae = r3net_cal_precision_recall_mae(prediction, gt)
        for index, (p, r) in enumerate(zip(precision, recall)):
            precision_record[index].update(p)
            recall_record[index].update(r)
        mae_record.update(mae)
    precision = [m.avg for m in precision_record]
    recall = [m.avg for m in recall_record]
    return r3net_cal_fmeasure(precision, recall), mae_record.avg, precision, recall


def test_r3net_preset_equals_r3net_evaluation():
    pairs = generated_pairs(40, seed=11, max_side=60) + edge_case_pairs()
    max_f, mae, precision, recall = r3net_evaluate(pairs)
    ours, curves = scores(pairs, 'r3net', ['MAE', 'maxF'])
    assert ours['maxF'] == pytest.approx(max_f, abs=1e-12)
    assert ours['MAE'] == pytest.approx(mae, abs=1e-12)
    np.testing.assert_allclose(curves['precision'], precision, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curves['recall'], recall, rtol=0, atol=1e-12)


def test_r3net_differs_from_pysodmetrics_where_documented():
    pred = np.zeros((20, 20), np.uint8)
    gt = np.zeros((20, 20), np.uint8)
    gt[5:10, 5:10] = 255
    # Empty prediction: eps smoothing makes P = 1 (R3Net), the guard makes P = 0 (PySODMetrics).
    _, r3 = scores([(pred, gt)], 'r3net', ['maxF'])
    _, ps = scores([(pred, gt)], 'pysodmetrics', ['maxF'])
    assert r3['precision'][-1] == 1 and ps['precision'][-1] == 0
    # A mask value of exactly 128 is foreground for R3Net (> 0.5), background for PySODMetrics.
    soft = np.full((4, 4), 128, np.uint8)
    assert image_statistics(pred[:4, :4], soft, 'r3net')['num_gt'] == 16
    assert image_statistics(pred[:4, :4], soft, 'pysodmetrics')['num_gt'] == 0


# --- ArcherFMY sal_eval_toolbox performCalcu.m / CalMAE.m (no resize: same sizes) -------
def matlab_sal_eval(pairs):
    edges = np.arange(256) / 255  # fliplr([255:-1:0]/255)
    pre, rec, maes = [], [], []
    for pred_u8, gt_u8 in pairs:
        smap = pred_u8 / 255
        smap = smap / smap.max() if smap.max() > 0 else np.zeros_like(smap)
        gt = gt_u8 / 255 >= 0.1
        # histc(x, edges): edges(k) <= x < edges(k+1), last bin x == edges(end)
        def histc(values):
            index = np.searchsorted(edges, values, side='right') - 1
            return np.bincount(index, minlength=256)
        target = np.cumsum(histc(smap[gt])[::-1])
        nontarget = np.cumsum(histc(smap[~gt])[::-1])
        with np.errstate(invalid='ignore', divide='ignore'):
            p = target / (target + nontarget)
            r = target / gt.sum() if gt.sum() else np.zeros(256)
        p[np.isnan(p)] = 0
        pre.append(p)
        rec.append(r)
        low, high = smap.min(), smap.max()
        if high > low:  # CalMAE divides by max - min (NaN for constant maps, then dropped)
            norm = (smap - low) / (high - low)
            maes.append(np.mean(np.abs(norm - gt)))
    mean_p, mean_r = np.mean(pre, axis=0), np.mean(rec, axis=0)
    with np.errstate(invalid='ignore'):
        f = 1.3 * mean_p * mean_r / (0.3 * mean_p + mean_r)
    return np.nanmax(f), np.mean(maes)


def test_matlab_sal_eval_preset_equals_toolbox():
    pairs = [pair for pair in generated_pairs(30, seed=12, max_side=60)
             if pair[0].max() > pair[0].min()]
    max_f, mae = matlab_sal_eval(pairs)
    ours, _ = scores(pairs, 'matlab_sal_eval', ['MAE', 'maxF'])
    assert ours['maxF'] == pytest.approx(max_f, abs=1e-12)
    assert ours['MAE'] == pytest.approx(mae, abs=1e-12)


def test_matlab_sal_eval_resizes_to_the_mask():
    pred = np.random.default_rng(0).integers(0, 256, (30, 40)).astype(np.uint8)
    gt = np.zeros((60, 80), np.uint8)
    gt[10:40, 20:60] = 255
    stats = image_statistics(pred, gt, 'matlab_sal_eval')
    assert stats['size'] == 60 * 80
    with pytest.raises(ValueError, match='differs from ground-truth size'):
        image_statistics(pred, gt, 'pysodmetrics')


# --- options ----------------------------------------------------------------------------
@pytest.mark.parametrize('preset', sorted(PRESETS))
@pytest.mark.parametrize('eps', [0.0, 1e-4])
@pytest.mark.parametrize('aggregation', ['mean_f_curve', 'mean_pr', 'per_image'])
def test_edge_cases_never_give_nan(preset, eps, aggregation):
    protocol = get_protocol(preset, eps=eps, maxf_aggregation=aggregation)
    for pair in edge_case_pairs():
        values, curves = scores([pair], protocol)
        assert all(np.isfinite(v) for v in values.values()), (pair[0].shape, values)
        assert all(np.all(np.isfinite(c)) for c in curves.values())


def test_aggregations_order_as_expected():
    pairs = generated_pairs(30, seed=13, max_side=50)
    per_curve = scores(pairs, dict(preset='pysodmetrics'), ['maxF'])[0]['maxF']
    per_image = scores(pairs, dict(maxf_aggregation='per_image'), ['maxF'])[0]['maxF']
    mean_pr = scores(pairs, dict(maxf_aggregation='mean_pr'), ['maxF'])[0]['maxF']
    assert per_image > per_curve  # a mean of maxima beats the max of the mean
    assert mean_pr != per_curve


def test_strict_and_inclusive_thresholds_differ_by_one_level():
    pred = np.arange(256, dtype=np.uint8).reshape(16, 16)
    gt = (pred >= 128).astype(np.uint8) * 255
    inclusive = image_statistics(pred, gt, dict(normalize='none', quantize_levels=False))
    strict = image_statistics(pred, gt, dict(normalize='none', quantize_levels=False,
                                             pred_compare='>'))
    # p >= k/255 keeps level k; p > k/255 drops it: the histogram shifts by one level.
    assert np.array_equal(strict['fg_hist'][:-1], inclusive['fg_hist'][1:])
    assert strict['fg_hist'][-1] == 0


def test_number_of_thresholds_is_an_option():
    pairs = generated_pairs(5, seed=14, max_side=40)
    _, curves = scores(pairs, dict(num_thresholds=11))
    assert curves['thresholds'].tolist() == pytest.approx(np.linspace(0, 1, 11).tolist())
    assert curves['fmeasure'].shape == (11, )


def test_get_protocol_names_overrides_and_rejects_unknown_options():
    assert get_protocol() is PRESETS['pysodmetrics']
    assert get_protocol('r3net', eps=0).name == 'r3net+'
    assert get_protocol(dict(preset='r3net', eps=1e-4)).name == 'r3net'
    with pytest.raises(KeyError, match='unknown protocol option'):
        get_protocol('pysodmetrics', epsilon=1)
    with pytest.raises(KeyError, match='unknown evaluation protocol'):
        get_protocol('fan')
    with pytest.raises(ValueError, match='normalize'):
        EvalProtocol(normalize='zscore')


def test_description_names_every_convention():
    text = get_protocol('r3net').describe()
    for part in ('protocol=r3net', 'norm=none', 'gt>0.5', '256 thresholds', 'p>k/255',
                 'eps=0.0001', 'maxF=mean_pr', 'resize=off', 'soft gt'):
        assert part in text, part
    assert 'gt>128/255' in get_protocol().describe()
    assert 'resize=bicubic' in get_protocol('matlab_sal_eval').describe()


def test_metric_subsets():
    pairs = generated_pairs(3, seed=15, max_side=30)
    values, curves = scores(pairs, None, ['MAE', 'Sm'])
    assert list(values) == ['MAE', 'Sm']
    stats = image_statistics(*pairs[0], metrics=['MAE'], keep_curves=False)
    assert 'fg_hist' not in stats and 'wF' not in stats
    with pytest.raises(KeyError, match='unknown metric'):
        image_statistics(*pairs[0], metrics=['Fbw'])
    assert set(METRIC_NAMES) == set(scores(pairs, None)[0])
