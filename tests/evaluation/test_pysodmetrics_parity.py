"""salbox's metrics against PySODMetrics 1.6.2 (installed), the community reference."""
import json
import warnings

import numpy as np
import py_sod_metrics as psm  # the reference: a missing one fails the suite, never skips it
import pytest
from eval_pairs import edge_case_pairs, find_examples, generated_pairs

from salbox.evaluation import evaluate_folder
from salbox.evaluation.functional import (METRIC_NAMES, adaptive_emeasure, adaptive_fmeasure,
                                          aggregate_statistics, image_statistics, mae,
                                          normalize_map, smeasure, weighted_fmeasure)

# version_performance.json key -> salbox metric
GOLDEN_KEYS = {'MAE': 'MAE', 'Smeasure': 'Sm', 'wFmeasure': 'wF', 'adpEm': 'adpEm',
               'meanEm': 'meanEm', 'maxEm': 'maxEm', 'adpFm': 'adpF', 'meanFm': 'meanF',
               'maxFm': 'maxF'}


def reference(pairs):
    """PySODMetrics' nine classic numbers and its P/R curves over ``pairs``."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # Fmeasure deprecation, NaN S-measure warnings
        evaluators = [psm.MAE(), psm.Fmeasure(), psm.Smeasure(), psm.Emeasure(),
                      psm.WeightedFmeasure()]
        for pred, gt in pairs:
            for evaluator in evaluators:
                evaluator.step(pred=pred, gt=gt)
        mae_, fm, sm, em, wfm = (e.get_results() for e in evaluators)
    scores = {'MAE': mae_['mae'], 'maxF': fm['fm']['curve'].max(),
              'meanF': fm['fm']['curve'].mean(), 'adpF': fm['fm']['adp'], 'Sm': sm['sm'],
              'maxEm': em['em']['curve'].max(), 'meanEm': em['em']['curve'].mean(),
              'adpEm': em['em']['adp'], 'wF': wfm['wfm']}
    return {k: float(v) for k, v in scores.items()}, fm['pr']


def salbox_scores(pairs, protocol='pysodmetrics'):
    stats = [image_statistics(p, g, protocol) for p, g in pairs]
    return aggregate_statistics(stats, protocol)


def test_golden_examples_reproduce_exactly():
    root = find_examples()
    assert root is not None, ('the golden examples (shared/data/pysodmetrics_examples next to '
                              'the repository) are missing: the exact-reproduction check '
                              'cannot run without them')
    expected = json.loads((root / 'version_performance.json').read_text())['v1_4_3']
    scores, curves = evaluate_folder(str(root / 'preds'), str(root / 'masks'))
    for key, metric in GOLDEN_KEYS.items():
        assert scores[metric] == expected[key], (metric, scores[metric], expected[key])
    assert curves['precision'].shape == (256, )


def test_each_generated_pair_matches_pysodmetrics():
    pairs = generated_pairs(200, seed=1) + edge_case_pairs()
    nan_cases = 0
    exact = 0
    for index, (pred, gt) in enumerate(pairs):
        expected, _ = reference([(pred, gt)])
        ours, _ = salbox_scores([(pred, gt)])
        for metric in METRIC_NAMES:
            assert np.isfinite(ours[metric]), (index, metric)
            if np.isnan(expected[metric]):
                # PySODMetrics returns NaN when the mask centroid is on the last row/column.
                assert metric == 'Sm'
                nan_cases += 1
                continue
            if gt.size == 1 and metric in ('maxEm', 'meanEm', 'adpEm'):
                # A 1-pixel image: PySODMetrics divides by size - 1 + eps (4.5e15); salbox by 1.
                assert ours[metric] == pytest.approx(expected[metric] * np.spacing(1), rel=1e-9)
                assert 0 <= ours[metric] <= 1
                nan_cases += 1
                continue
            assert abs(ours[metric] - expected[metric]) <= 1e-10, (index, metric)
            exact += ours[metric] == expected[metric]
    assert nan_cases > 0  # the edge cases do reach PySODMetrics' NaN
    assert exact == len(pairs) * len(METRIC_NAMES) - nan_cases  # in fact bit-identical


def test_dataset_averages_and_pr_curves_match():
    pairs = [p for p in generated_pairs(60, seed=2)]
    expected, pr = reference(pairs)
    ours, curves = salbox_scores(pairs)
    for metric in METRIC_NAMES:
        assert ours[metric] == pytest.approx(expected[metric], abs=1e-10)
    # salbox stores curves by ascending threshold, PySODMetrics by descending.
    np.testing.assert_allclose(curves['precision'], pr['p'][::-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(curves['recall'], pr['r'][::-1], rtol=0, atol=1e-12)
    assert np.all(np.diff(curves['recall']) <= 0)  # recall falls as the threshold rises


def test_plain_functions_match_pysodmetrics_classes():
    for pred_u8, gt_u8 in generated_pairs(12, seed=3):
        pred = normalize_map(pred_u8 / 255, 'minmax')
        gt = gt_u8 > 128
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            fm = psm.Fmeasure()
        em = psm.Emeasure()
        em.gt_fg_numel, em.gt_size = np.count_nonzero(gt), gt.size
        assert mae(pred, gt) == psm.MAE().cal_mae(pred, gt)
        assert adaptive_fmeasure(pred, gt)[2] == fm.cal_adaptive_fm(pred, gt)
        assert adaptive_emeasure(pred, gt) == em.cal_adaptive_em(pred, gt)
        if 0 < gt.mean() < 1:
            assert smeasure(pred, gt) == pytest.approx(psm.Smeasure().cal_sm(pred, gt), abs=1e-12)
            assert weighted_fmeasure(pred, gt) == psm.WeightedFmeasure().cal_wfm(pred, gt)


def test_float_inputs_equal_their_8bit_maps():
    """A model's float maps (as the Runner gives them) score like the PNGs salbox writes."""
    pairs = generated_pairs(20, seed=4)
    as_float = [((p / 255).astype(np.float32)[None], (g / 255).astype(np.float32)[None])
                for p, g in pairs]
    assert salbox_scores(as_float)[0] == salbox_scores(pairs)[0]


def test_float_path_equals_8bit_path():
    """The float code path (no 8-bit rounding) agrees with the lookup-table path."""
    pairs = generated_pairs(20, seed=5)
    unrounded = [(p / 255, g / 255) for p, g in pairs]
    protocol = dict(preset='pysodmetrics', quantize_input=False)
    float_scores = salbox_scores(unrounded, protocol)[0]
    eight_bit = salbox_scores(pairs)[0]
    for metric in METRIC_NAMES:
        assert float_scores[metric] == pytest.approx(eight_bit[metric], abs=1e-12)
