"""SalTTAModel: flip / multi-scale views through mmcv's TestTimeAug, merged by the mean of the
views' probabilities, post-processed once."""
import copy

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from salbox.datasets.synthetic import render_sample
from salbox.evaluation import evaluate_pairs
from salbox.models.postprocessors import BasePostProcessor
from salbox.registry import MODELS


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    init_default_scope('salbox')
    yield
    torch.set_num_threads(threads)


class _PointwiseBackbone(nn.Module):
    """1x1 convs only: a flip-equivariant model (a flip of the input flips the output)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 1)

    def forward(self, x):
        return (torch.tanh(self.conv(x)),)


class _SpatialBackbone(nn.Module):
    """3x3 convs, not flip-equivariant."""

    def __init__(self, channels=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, padding=2, dilation=2),
                                  nn.ReLU(),
                                  nn.Conv2d(channels, 6, 3, padding=4, dilation=4), nn.ReLU())

    def forward(self, x):
        return (self.body(x),)


class _OneLogitHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 1, 1)

    def forward(self, feats):
        return [self.conv(feats[0])]


class _CountCalls(BasePostProcessor):
    calls = 0

    def process(self, image, sal_map):
        type(self).calls += 1
        return sal_map.sqrt()


def _detector(backbone, **kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(type='SaliencyDetector', backbone=dict(type=backbone),
                             head=dict(type=_OneLogitHead), **kwargs)).eval()


def _tta_pipeline(flips=True, factors=(1.0, )):
    flip = [dict(type='RandomFlip', prob=0.0)]
    if flips:
        flip.append(dict(type='RandomFlip', prob=1.0, direction='horizontal'))
    return Compose([
        dict(type='LoadSalImageFromFile'),
        dict(type='TestTimeAug', transforms=[
            [dict(type='Resize', scale_factor=f) for f in factors], flip,
            [dict(type='PackSalInputs', keep_ori_img=True)]])])


def _plain_pipeline():
    return Compose([dict(type='LoadSalImageFromFile'),
                    dict(type='PackSalInputs', keep_ori_img=True)])


def _write(tmp_path, bgr, name='img.png'):
    path = str(tmp_path / name)
    cv2.imwrite(path, bgr)
    return path


def _tta_predict(model, path, **pipeline_kwargs):
    tta = MODELS.build(dict(type='SalTTAModel', module=model))
    data = _tta_pipeline(**pipeline_kwargs)(dict(img_path=path))
    with torch.no_grad():
        return tta.test_step(pseudo_collate([data]))[0]


def _plain_predict(model, path):
    data = _plain_pipeline()(dict(img_path=path))
    with torch.no_grad():
        return model.test_step(pseudo_collate([data]))[0]


def test_flip_tta_on_a_symmetric_input_equals_the_plain_prediction(tmp_path):
    rng = np.random.default_rng(0)
    half = rng.integers(0, 256, (20, 12, 3), dtype=np.uint8)
    symmetric = np.concatenate([half, half[:, ::-1]], axis=1)
    path = _write(tmp_path, symmetric)
    model = _detector(_PointwiseBackbone)
    plain = _plain_predict(model, path).pred_sal_map.data
    merged = _tta_predict(model, path)
    assert merged.metainfo['tta_views'] == 2
    assert torch.allclose(merged.pred_sal_map.data, plain, atol=1e-6)


def test_flip_tta_is_the_mean_of_the_view_probabilities(tmp_path):
    """Independent construction: run the raw network on the image and on its mirror image."""
    bgr = np.random.default_rng(1).integers(0, 256, (18, 26, 3), dtype=np.uint8)
    path = _write(tmp_path, bgr)
    model = _detector(_SpatialBackbone)
    rgb = torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1).float()[None]
    x = (rgb - model.data_preprocessor.mean) / model.data_preprocessor.std
    with torch.no_grad():
        direct = model._forward(x)[-1][0].sigmoid()
        mirrored = model._forward(x.flip(-1))[-1][0].sigmoid().flip(-1)
    expected = (direct + mirrored) / 2
    assert not torch.allclose(direct, mirrored, atol=1e-3)  # the views differ
    merged = _tta_predict(model, path)
    assert torch.allclose(merged.pred_sal_map.data, expected, atol=1e-5)
    assert torch.allclose(merged.sal_logits.data.sigmoid(), expected, atol=1e-5)


def test_multi_scale_views_return_to_the_original_size_and_postprocess_once(tmp_path):
    bgr = np.random.default_rng(2).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    path = _write(tmp_path, bgr)
    model = _detector(_SpatialBackbone, postprocessors=[dict(type=_CountCalls)])
    _CountCalls.calls = 0
    merged = _tta_predict(model, path, factors=(0.5, 1.0, 1.5))
    assert merged.metainfo['tta_views'] == 6 and _CountCalls.calls == 1
    assert merged.pred_sal_map.data.shape == (1, 20, 28)
    assert torch.allclose(merged.pred_sal_map.data, merged.sal_logits.data.sigmoid().sqrt(),
                          atol=1e-5)
    assert model.run_postprocessors  # restored after the views


def test_a_plain_checkpoint_loads_into_the_tta_model():
    model = _detector(_SpatialBackbone)
    tta = MODELS.build(dict(type='SalTTAModel', module=copy.deepcopy(model)))
    for p in tta.parameters():
        nn.init.zeros_(p)
    tta.load_state_dict(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(tta.state_dict()['module.' + key], value)


def test_flip_tta_does_not_lower_max_f_of_a_trained_model():
    """A small model trained for a few dozen iterations on synthetic images: the flip-averaged
    maps score at least as well as the plain maps on held-out images."""
    torch.manual_seed(0)
    size = 48
    train = [render_sample(i, 0, (size, size)) for i in range(24)]
    test = [render_sample(i, 1, (size, size)) for i in range(12)]
    model = _detector(_SpatialBackbone).train()
    images = torch.stack([torch.from_numpy(img).permute(2, 0, 1) for img, _ in train])
    masks = torch.stack([torch.from_numpy(m).float()[None] / 255 for _, m in train])
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(150):
        idx = torch.randint(0, len(train), (8, ))
        x = torch.stack([model.data_preprocessor._normalise(i) for i in images[idx]])
        flip = torch.rand(()) < 0.5
        target = masks[idx]
        if flip:
            x, target = x.flip(-1), target.flip(-1)
        loss = nn.functional.binary_cross_entropy_with_logits(model._forward(x)[-1], target)
        optim.zero_grad()
        loss.backward()
        optim.step()
    model.eval()
    tta = MODELS.build(dict(type='SalTTAModel', module=model))
    pipe_plain = Compose([dict(type='PackSalInputs', keep_ori_img=True)])
    pipe_tta = Compose([dict(type='TestTimeAug', transforms=[
        [dict(type='RandomFlip', prob=0.0),
         dict(type='RandomFlip', prob=1.0, direction='horizontal')],
        [dict(type='PackSalInputs', keep_ori_img=True)]])])
    plain, merged, gts = [], [], []
    for img, mask in test:
        results = dict(img=img, ori_img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        with torch.no_grad():
            plain.append(model.test_step(pseudo_collate([pipe_plain(dict(results))]))[0]
                         .pred_sal_map.data[0].numpy())
            merged.append(tta.test_step(pseudo_collate([pipe_tta(dict(results))]))[0]
                          .pred_sal_map.data[0].numpy())
        gts.append(mask.astype(np.float32) / 255)
    score_plain, _ = evaluate_pairs(zip(plain, gts), None, ('maxF', 'MAE'))
    score_tta, _ = evaluate_pairs(zip(merged, gts), None, ('maxF', 'MAE'))
    # measured: plain 0.755, flip TTA 0.755 (150 iterations, seed 0)
    assert score_plain['maxF'] > 0.7  # the model learned something
    assert score_tta['maxF'] >= score_plain['maxF'] - 1e-3


class _FirstStageCalls(_CountCalls):
    calls = 0


class _WrapperCalls(_CountCalls):
    calls = 0


class _CountingRefiner(nn.Module):
    """The second-stage contract at its smallest: training forward and test-time refine."""
    calls = 0

    def forward(self, images, priors):
        return torch.logit(priors.clamp(1e-6, 1 - 1e-6))

    def refine(self, image, prior):
        type(self).calls += 1
        return torch.logit((1 - prior).clamp(1e-6, 1 - 1e-6)), 1 - prior


def test_two_stage_tta_runs_every_step_after_the_merge_once(tmp_path):
    """A RefinedDetector under TTA: the views' first-stage maps are averaged, then the first
    stage's post-processors, the refiner and the wrapper's post-processors run once each."""
    bgr = np.random.default_rng(3).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    path = _write(tmp_path, bgr)
    torch.manual_seed(0)
    first = dict(type='SaliencyDetector', backbone=dict(type=_SpatialBackbone),
                 head=dict(type=_OneLogitHead), postprocessors=[dict(type=_FirstStageCalls)])
    model = MODELS.build(dict(type='RefinedDetector', first_stage=first,
                              refiner=dict(type=_CountingRefiner),
                              postprocessors=[dict(type=_WrapperCalls)])).eval()
    counters = (_FirstStageCalls, _CountingRefiner, _WrapperCalls)
    for counter in counters:
        counter.calls = 0
    merged = _tta_predict(model, path, factors=(0.5, 1.0))
    assert merged.metainfo['tta_views'] == 4
    assert [c.calls for c in counters] == [1, 1, 1]
    # On the merged first-stage map: mean of the views -> sqrt -> 1 - x -> sqrt.
    views = []
    for factor in (0.5, 1.0):
        for flip in (False, True):
            steps = [dict(type='LoadSalImageFromFile'), dict(type='Resize', scale_factor=factor),
                     dict(type='RandomFlip', prob=float(flip), direction='horizontal'),
                     dict(type='PackSalInputs', keep_ori_img=True)]
            with torch.no_grad():
                out = model.first_stage.test_step(
                    pseudo_collate([Compose(steps)(dict(img_path=path))]))[0]
            views.append(out.sal_logits.data.sigmoid())
    expected = (1 - torch.stack(views).mean(0).sqrt()).sqrt()
    assert torch.allclose(merged.pred_sal_map.data, expected, atol=1e-5)
    for counter in counters:
        counter.calls = 0
    _plain_predict(model, path)  # without TTA: once each too
    assert [c.calls for c in counters] == [1, 1, 1]
