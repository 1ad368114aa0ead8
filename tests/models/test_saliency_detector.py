"""SaliencyDetector data flow with small stand-in parts (the R3Net parts have their own tests)."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.structures import PixelData

from salbox.models.postprocessors import BasePostProcessor
from salbox.registry import MODELS
from salbox.structures import SalDataSample


@MODELS.register_module(force=True)
class _TinyBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)

    def forward(self, x):
        return (self.conv(x),)


@MODELS.register_module(force=True)
class _TinyHead(nn.Module):
    align_corners = True

    def __init__(self, num_outputs=3):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(4, 1, 1) for _ in range(num_outputs))

    def forward(self, feats):
        return [conv(feats[0]) for conv in self.convs]


@MODELS.register_module(force=True)
class _InvertMap(BasePostProcessor):
    """Records the image it saw and returns 1 - map."""

    def process(self, image, sal_map):
        self.seen_image = image.clone()
        return 1 - sal_map


def _detector(**kwargs):
    return MODELS.build(dict(type='SaliencyDetector', backbone=dict(type='_TinyBackbone'),
                             head=dict(type='_TinyHead'), **kwargs))


def _batch(sizes, with_gt=True, img_path=''):
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 255, (3, h, w), dtype=torch.uint8))
        sample = SalDataSample(metainfo=dict(ori_shape=(h, w), img_path=img_path))
        if with_gt:
            sample.gt_sal_map = PixelData(data=torch.rand(1, h, w))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def test_loss_scores_every_output_and_falls_with_training():
    torch.manual_seed(0)
    model = _detector()
    optim = torch.optim.SGD(model.parameters(), lr=0.5)
    data = _batch([(16, 16), (16, 16)])
    first = None
    for _ in range(30):
        losses = model(**model.data_preprocessor(data, True), mode='loss')
        assert sorted(losses) == ['loss_sal_0', 'loss_sal_1', 'loss_sal_2']
        total = sum(losses.values())
        first = first if first is not None else total.item()
        optim.zero_grad()
        total.backward()
        optim.step()
    assert total.item() < first


def test_padded_batch_loss_ignores_padding():
    torch.manual_seed(0)
    model = _detector()
    data = _batch([(16, 12), (10, 16)])
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())


def test_predict_returns_maps_at_original_size_in_unit_range():
    torch.manual_seed(0)
    model = _detector().eval()
    data = model.data_preprocessor(_batch([(15, 21)]), False)
    out = model(**data, mode='predict')
    pred = out[0].pred_sal_map.data
    assert pred.shape == (1, 15, 21)
    assert pred.min() >= 0 and pred.max() <= 1
    assert torch.allclose(pred, out[0].sal_logits.data.sigmoid())


def test_tensor_mode_returns_all_outputs_at_input_size():
    model = _detector().eval()
    outputs = model(torch.zeros(2, 3, 20, 20), mode='tensor')
    assert len(outputs) == 3 and all(o.shape == (2, 1, 20, 20) for o in outputs)


def test_postprocessors_see_the_original_rgb_image(tmp_path):
    import cv2
    model = _detector(postprocessors=[dict(type='_InvertMap')]).eval()
    bgr = np.zeros((12, 14, 3), np.uint8)
    bgr[..., 0] = 200  # blue in BGR
    path = str(tmp_path / 'photo.png')
    cv2.imwrite(path, bgr)
    data = _batch([(12, 14)], img_path=path)
    data['inputs'][0] = torch.from_numpy(bgr).permute(2, 0, 1).contiguous()
    out = model(**model.data_preprocessor(data, False), mode='predict')
    seen = model.postprocessors[0].seen_image
    assert seen.shape == (3, 12, 14) and seen[2].float().mean() == 200 and seen[0].sum() == 0
    assert torch.allclose(out[0].pred_sal_map.data, 1 - out[0].sal_logits.data.sigmoid())


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(RuntimeError, match='Invalid mode'):
        _detector()(torch.zeros(1, 3, 8, 8), mode='bogus')
