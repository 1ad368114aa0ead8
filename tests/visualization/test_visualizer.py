"""SalLocalVisualizer: the panels hold exactly the image, the 8-bit ground truth, the 8-bit
prediction and their blend; without out_file they reach every backend (TensorBoard included)."""
import glob

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from salbox.registry import VISUALIZERS
from salbox.structures import SalDataSample


def _sample(h=20, w=30):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    gt = np.zeros((1, h, w), np.float32)
    gt[:, 5:15, 10:25] = 1
    pred = rng.random((1, h, w)).astype(np.float32)
    sample = SalDataSample()
    sample.gt_sal_map = PixelData(data=torch.from_numpy(gt))
    sample.pred_sal_map = PixelData(data=torch.from_numpy(pred))
    return image, sample, gt[0], pred[0]


def _build(name, **kwargs):
    from mmengine.registry import init_default_scope
    init_default_scope('salbox')
    return VISUALIZERS.build(dict(type='SalLocalVisualizer', name=name, **kwargs))


def test_panels_are_image_gt_prediction_overlay(tmp_path):
    image, sample, gt, pred = _sample()
    visualizer = _build('vis_panels', overlay=True, alpha=0.5, overlay_color=(255, 0, 0))
    out_file = tmp_path / 'panel.png'
    drawn = visualizer.add_datasample('s', image, sample, out_file=str(out_file))
    w = image.shape[1]
    assert drawn.shape == (20, 4 * w, 3)
    assert np.array_equal(drawn[:, :w], image)
    assert np.array_equal(drawn[:, w:2 * w, 0], (gt * 255).astype(np.uint8))
    pred8 = np.rint(pred * 255).astype(np.uint8)
    assert np.array_equal(drawn[:, 2 * w:3 * w, 1], pred8)
    # overlay: red blended in proportion to the prediction, by hand
    weight = pred8 / 255.0 * 0.5
    expected = image * (1 - weight[..., None]) + np.array([255, 0, 0]) * weight[..., None]
    assert np.abs(drawn[:, 3 * w:].astype(float) - expected).max() <= 0.5 + 1e-6
    on_disk = cv2.imread(str(out_file))[:, :, ::-1]  # written as a normal (BGR) image file
    assert np.array_equal(on_disk, drawn)
    # without the prediction: image | ground truth only; titles add a caption strip
    titled = _build('vis_titles', with_titles=True)
    only_gt = titled.add_datasample('s', image, sample, draw_pred=False,
                                    out_file=str(tmp_path / 'gt.png'))
    assert only_gt.shape == (16 + 20, 2 * w, 3)
    with pytest.raises(ValueError, match=r'\(H, W, 3\) uint8 RGB'):
        visualizer.add_datasample('s', image.astype(np.float32), sample)


def test_without_out_file_panels_go_to_the_backends(tmp_path):
    image, sample, _, _ = _sample()
    visualizer = _build('vis_local', vis_backends=[dict(type='LocalVisBackend')],
                        save_dir=str(tmp_path))
    visualizer.add_datasample('synthetic_000001', image, sample, step=3)
    written = glob.glob(str(tmp_path / 'vis_data' / 'vis_image' / '**' / '*.png'),
                        recursive=True)
    assert len(written) == 1 and written[0].endswith('000001_3.png')
    assert cv2.imread(written[0]).shape == (20, 3 * 30, 3)  # defaults: no overlay, no titles


def test_tensorboard_backend_receives_the_panel(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    image, sample, _, _ = _sample()
    visualizer = _build('vis_tb', vis_backends=[dict(type='TensorboardVisBackend')],
                        save_dir=str(tmp_path), overlay=True)
    visualizer.add_datasample('synthetic_000001', image, sample, step=2)
    visualizer.add_scalars({'maxF': 0.5}, step=2)
    visualizer.close()
    events = EventAccumulator(str(tmp_path / 'vis_data'))
    events.Reload()
    assert events.Tags()['images'] == ['synthetic_000001']
    stored = events.Images('synthetic_000001')[0]
    assert (stored.step, stored.width, stored.height) == (2, 4 * 30, 20)
    assert events.Scalars('maxF')[0].value == pytest.approx(0.5)


def test_hook_draws_every_interval_th_sample_from_the_sample_image(tmp_path):
    from types import SimpleNamespace

    from salbox.engine.hooks import SalVisualizationHook
    from salbox.utils.errors import SalboxError
    image, sample, _, _ = _sample()
    samples = []
    for index in range(3):
        item = sample.clone()
        item.ori_img = PixelData(data=torch.from_numpy(image.transpose(2, 0, 1).copy()))
        item.set_metainfo(dict(img_path=f'/nowhere/{index:03d}.jpg', dataset_name='Set'))
        samples.append(item)
    runner = SimpleNamespace(visualizer=_build('vis_hook'), iter=0)
    hook = SalVisualizationHook(out_dir=str(tmp_path), interval=2)
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, outputs=samples[:2])
    hook.after_test_iter(runner, 1, outputs=samples[2:])
    written = sorted(p.name for p in (tmp_path / 'Set').iterdir())
    assert written == ['000.png', '002.png']  # no file at /nowhere was needed
    panel = cv2.imread(str(tmp_path / 'Set' / '002.png'))[:, :, ::-1]
    assert np.array_equal(panel[:, :30], image)
    del samples[0].ori_img
    hook.before_test(runner)  # a new test run counts from 0 again
    with pytest.raises(SalboxError, match='keep_ori_img=True'):
        hook.after_test_iter(runner, 2, outputs=samples[:1])
