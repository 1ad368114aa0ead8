"""Property-based tests (hypothesis): metrics and transforms on any size and any values.

Metrics: any map from 1 x 1 up, any mask values, constant maps, 1-pixel objects, NaN / inf.
Chosen behaviour (docs/bad_input.md): every score is finite and in [0, 1]; a float map with NaN
raises ``ValueError`` naming the image; +/-inf are clipped to 1 / 0 like any out-of-range value.
Transforms: image and mask keep the same height and width and stay pixel-aligned.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from salbox.datasets.transforms import geometric
from salbox.evaluation.functional import (METRIC_NAMES, aggregate_statistics, image_statistics,
                                          weighted_fmeasure)
from salbox.evaluation.functional.statistics import StatisticsAccumulator

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
PROTOCOLS = ['pysodmetrics', 'r3net', 'matlab_sal_eval']

shapes = st.tuples(st.integers(1, 24), st.integers(1, 24))


@st.composite
def uint8_pairs(draw):
    shape = draw(shapes)
    kind = draw(st.sampled_from(['any', 'constant', 'binary', 'one_pixel']))
    pred = draw(arrays(np.uint8, shape))
    if kind == 'constant':
        pred = np.full(shape, draw(st.integers(0, 255)), np.uint8)
    gt = draw(arrays(np.uint8, shape))
    if kind == 'binary':
        gt = (gt > 127).astype(np.uint8) * 255
    elif kind == 'one_pixel':
        gt = np.zeros(shape, np.uint8)
        gt[draw(st.integers(0, shape[0] - 1)), draw(st.integers(0, shape[1] - 1))] = 255
    return pred, gt


def _check_scores(scores, size):
    # Fan's E-measure divides the sum over N pixels by N - 1 (MATLAB, PySODMetrics and salbox
    # alike), so a perfect N-pixel map scores N / (N - 1); a 1-pixel image divides by 1.
    e_top = size / (size - 1) if size > 1 else 1
    for name in METRIC_NAMES:
        value = scores[name]
        assert np.isfinite(value), name
        top = e_top if name.endswith('Em') else 1
        assert -1e-12 <= value <= top + 1e-12, (name, value)


@SETTINGS
@given(uint8_pairs(), st.sampled_from(PROTOCOLS))
def test_metrics_finite_and_in_range(pair, protocol):
    pred, gt = pair
    if protocol == 'matlab_sal_eval' and (pred.shape[0] < 2 or pred.shape[1] < 2):
        pass  # bicubic resizing is not needed: same size; still evaluated below
    scores, curves = aggregate_statistics([image_statistics(pred, gt, protocol)], protocol)
    _check_scores(scores, pred.size)
    for name in ('precision', 'recall', 'fmeasure', 'emeasure'):
        top = 1 if name != 'emeasure' else max(1, pred.size / max(pred.size - 1, 1))
        assert np.all(np.isfinite(curves[name]))
        assert np.all((curves[name] >= 0) & (curves[name] <= top + 1e-12))


@SETTINGS
@given(st.lists(uint8_pairs(), min_size=1, max_size=6))
def test_streaming_equals_list_aggregation(pairs):
    """The accumulator folder evaluation streams into gives exactly the list result."""
    stats = [image_statistics(p, g) for p, g in pairs]
    accumulator = StatisticsAccumulator()
    for item in stats:
        accumulator.add(item)
    streamed, streamed_curves = accumulator.result()
    # Independent aggregation: stack the per-image curves and take numpy means.
    listed, curves = aggregate_statistics(list(stats))
    assert streamed == listed
    for name in curves:
        np.testing.assert_array_equal(streamed_curves[name], curves[name])


@SETTINGS
@given(shapes, st.data())
def test_float_maps_with_inf_are_clipped(shape, data):
    pred = data.draw(arrays(np.float64, shape, elements=st.floats(-5, 5)))
    inf_mask = data.draw(arrays(bool, shape))
    pred = np.where(inf_mask, np.inf, pred)
    pred[0, 0] = -np.inf
    gt = data.draw(arrays(np.uint8, shape))
    scores, _ = aggregate_statistics([image_statistics(pred, gt)])
    _check_scores(scores, pred.size)
    clipped = np.clip(pred, 0, 1)
    assert scores == aggregate_statistics([image_statistics(clipped, gt)])[0]


@SETTINGS
@given(shapes, st.data(), st.sampled_from(PROTOCOLS))
def test_nan_map_is_a_clear_error(shape, data, protocol):
    pred = data.draw(arrays(np.float32, shape, elements=st.floats(0, 1, width=32)))
    pred[data.draw(st.integers(0, shape[0] - 1)), data.draw(st.integers(0, shape[1] - 1))] = \
        np.nan
    gt = np.zeros(shape, np.uint8)
    with pytest.raises(ValueError, match='prediction of img_7.jpg contains NaN'):
        image_statistics(pred, gt, protocol, where='img_7.jpg')


@SETTINGS
@given(shapes, st.data())
def test_weighted_fmeasure_band_search_matches_scipy(shape, data):
    """The band-only nearest-pixel search names scipy's nearest pixel, ties included."""
    from scipy.ndimage import distance_transform_edt

    from salbox.evaluation.functional.weighted_fmeasure import band_nearest
    gt = data.draw(arrays(bool, shape))
    if not gt.any():
        gt[0, 0] = True
    band, nearest = band_nearest(gt)  # ring lookup from cv2's exact squared distances
    rows, cols = distance_transform_edt(~gt, return_distances=False, return_indices=True)
    expected = (rows * shape[1] + cols).ravel()[band]
    np.testing.assert_array_equal(nearest, expected)
    unknown = np.full(shape, 99)  # distances unusable: the search over every offset
    np.testing.assert_array_equal(band_nearest(gt, unknown)[1], expected)
    pred = data.draw(arrays(np.float64, shape, elements=st.floats(0, 1)))
    score = weighted_fmeasure(pred, gt)
    assert np.isfinite(score) and 0 <= score <= 1


# --------------------------------------------------------------------------------------------
# Transforms: an image made from the mask must still equal the mask after the transform.

@st.composite
def samples(draw):
    height, width = draw(shapes)
    mask = draw(arrays(np.uint8, (height, width), elements=st.sampled_from([0, 255])))
    img = np.repeat(mask[:, :, None], 3, axis=2)
    return dict(img=img, gt_sal_map=mask.astype(np.float32) / 255, img_shape=(height, width),
                ori_shape=(height, width))


TRANSFORMS = [
    lambda: geometric.RandomFlip(prob=1.0, direction=['horizontal', 'vertical', 'diagonal']),
    lambda: geometric.RandomCropOrResize(size=(5, 7), img_interpolation='nearest'),
    lambda: geometric.RandomCropOrResize(size=1, img_interpolation='nearest'),
    lambda: geometric.Resize(scale=(9, 4), img_interpolation='nearest',
                             mask_interpolation='nearest'),
    lambda: geometric.Resize(scale=(3, 30), keep_ratio=True, img_interpolation='nearest',
                             mask_interpolation='nearest'),
    lambda: geometric.RandomRotate(max_angle=30, img_interpolation='nearest'),
]


@SETTINGS
@given(samples(), st.sampled_from(range(len(TRANSFORMS))), st.integers(0, 2 ** 31 - 1))
def test_transforms_keep_image_and_mask_aligned(sample, index, seed):
    np.random.seed(seed)
    try:
        transform = TRANSFORMS[index]()
    except ValueError:  # e.g. a direction this version does not offer
        transform = geometric.RandomFlip(prob=1.0)
    out = transform(dict(sample))
    img, mask = out['img'], out['gt_sal_map']
    assert img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
    assert img.shape[:2] == mask.shape
    assert tuple(out['img_shape']) == img.shape[:2]
    assert img.shape[0] >= 1 and img.shape[1] >= 1
    np.testing.assert_array_equal(img[:, :, 0].astype(np.float32) / 255, mask)
