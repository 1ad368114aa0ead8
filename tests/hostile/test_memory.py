"""Working memory bounded in the photo's size (docs/bad_input.md, "Memory and large runs"):
the network runs on at most ``inference_max_pixels``, DenseCRF runs on tiles, and the size
limit's message names its variable and the real estimate. Figures:
benchmarks/bench_infer_memory.py."""
import cv2
import numpy as np
import pytest
from mmengine.config import Config

from salbox.apis.inference import build_inference_pipeline, inference_model, init_model
from salbox.models.postprocessors import dense_crf_tiles
from salbox.models.postprocessors.dense_crf import dense_crf_numpy
from salbox.utils.errors import DataError
from salbox.utils.image_io import decode_image


def test_network_input_is_bounded(tmp_path, tiny_model):
    config, checkpoint, _ = tiny_model
    path = str(tmp_path / 'big.png')
    cv2.imwrite(path, np.random.default_rng(0).integers(0, 255, (1500, 2000, 3), np.uint8))
    cfg = Config.fromfile(config)
    cfg.inference_max_pixels = 120_000
    packed = build_inference_pipeline(cfg)(dict(img_path=path, dataset_name='inference'))
    height, width = packed['inputs'].shape[1:]
    assert height * width <= 120_000 and abs(width / height - 4 / 3) < 0.01
    model = init_model(cfg, checkpoint)
    sample = inference_model(model, path)
    assert tuple(sample.pred_sal_map.data.shape) == (1, 1500, 2000)  # the map at full size
    cv2.imwrite(str(tmp_path / 'small.png'), np.zeros((30, 40, 3), np.uint8))
    small = build_inference_pipeline(cfg)(dict(img_path=str(tmp_path / 'small.png')))
    assert tuple(small['inputs'].shape[1:]) == (30, 40)  # small photos are not touched


def test_a_pipeline_that_resizes_is_left_alone():
    cfg = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='LoadSalImageFromFile'), dict(type='Resize', scale=(64, 64)),
        dict(type='PackSalInputs')]))))
    names = [type(t).__name__ for t in build_inference_pipeline(cfg).transforms]
    assert 'LimitPixels' not in names


def test_dense_crf_runs_on_bounded_tiles(monkeypatch):
    rng = np.random.default_rng(0)
    height, width = 300, 400
    image = cv2.resize(rng.integers(0, 255, (15, 20, 3)).astype(np.uint8), (width, height))
    yy, xx = np.mgrid[:height, :width]
    sal = ((yy - 150) ** 2 / 80 ** 2 + (xx - 200) ** 2 / 120 ** 2 < 1).astype(np.float32)
    sal = cv2.GaussianBlur(sal, (0, 0), 8) * 0.8 + 0.1
    whole = dense_crf_numpy(image, sal, bilateral_sxy=10)
    shapes = []

    def recorded(image_rgb, sal_map, **kwargs):
        shapes.append(sal_map.shape)
        return dense_crf_numpy(image_rgb, sal_map, **kwargs)
    import salbox.models.postprocessors.dense_crf as dense_crf
    monkeypatch.setattr(dense_crf, 'dense_crf_numpy', recorded)
    tiled = dense_crf_tiles.dense_crf_tiled(image, sal, tile=128, tile_pixels=1,
                                            bilateral_sxy=10)
    assert len(shapes) == 12 and max(h * w for h, w in shapes) <= (128 + 60) ** 2
    # pydensecrf's lattice is not shift-invariant: a tile differs from the whole image on a
    # few pixels, as the whole image does from itself shifted by a few columns.
    difference = np.abs(whole - tiled) * 255
    assert difference.mean() < 0.5


def test_size_limit_names_its_variable_and_estimate(huge_png, monkeypatch):
    monkeypatch.delenv('SALBOX_MAX_IMAGE_PIXELS', raising=False)
    with pytest.raises(DataError) as info:
        decode_image(huge_png)
    message = str(info.value)
    assert message.startswith(f'image file {huge_png} is 12000x9000 (108 MP), above the 40 MP '
                              'limit of SALBOX_MAX_IMAGE_PIXELS (decoding it takes 309 MB; '
                              'tools/infer.py needs about ')
    assert message.endswith('in all); downscale it or set SALBOX_MAX_IMAGE_PIXELS=1.1e+08')


def test_rounding_a_large_map_needs_no_full_size_temporaries():
    import tracemalloc

    from salbox.evaluation.functional import to_uint8
    sal = np.random.default_rng(0).random((2000, 1500), dtype=np.float32)
    expected = np.rint(np.clip(sal.astype(np.float64), 0, 1) * 255).astype(np.uint8)
    tracemalloc.start()
    rounded = to_uint8(sal)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.array_equal(rounded, expected)  # the same float64 arithmetic
    assert peak < sal.size * 2 + 16 * 2**20  # the uint8 map and one 8 MB block, not 24 B/px
