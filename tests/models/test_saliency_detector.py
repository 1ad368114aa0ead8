"""SaliencyDetector data flow with small stand-in parts (the R3Net parts have their own tests)."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import PixelData

from salbox.models.postprocessors import BasePostProcessor
from salbox.registry import MODELS
from salbox.datasets.transforms import PackSalInputs
from salbox.structures import SalDataSample
from salbox.utils.errors import SalboxError


class _TinyBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)

    def forward(self, x):
        return (self.conv(x),)


class _TinyHead(nn.Module):
    align_corners = True

    def __init__(self, num_outputs=3):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(4, 1, 1) for _ in range(num_outputs))

    def forward(self, feats):
        return [conv(feats[0]) for conv in self.convs]


class _InvertMap(BasePostProcessor):
    """Records the image it saw and returns 1 - map."""

    def process(self, image, sal_map):
        self.seen_image = image.clone()
        return 1 - sal_map


def _detector(**kwargs):
    return MODELS.build(dict(type='SaliencyDetector', backbone=dict(type=_TinyBackbone),
                             head=dict(type=_TinyHead), **kwargs))


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
    """The loss of a padded batch is the BCE over each sample's real pixels only: whatever the
    network predicts on the padding, and whatever the padded mask holds, changes nothing."""
    torch.manual_seed(0)
    model = _detector()
    sizes = [(16, 12), (10, 16)]
    packed = model.data_preprocessor(_batch(sizes), True)
    losses = model(**packed, mode='loss')
    logits = model(packed['inputs'], mode='tensor')
    target = torch.stack([s.gt_sal_map.data for s in packed['data_samples']])
    assert target.shape[-2:] == (16, 16)  # padded
    for i, logit in enumerate(logits):
        per_pixel = F.binary_cross_entropy_with_logits(logit, target, reduction='none')
        valid = torch.cat([per_pixel[j, :, :h, :w].flatten() for j, (h, w) in enumerate(sizes)])
        torch.testing.assert_close(losses[f'loss_sal_{i}'], valid.mean())
        assert not torch.allclose(losses[f'loss_sal_{i}'], per_pixel.mean())
    first, second = (s.gt_sal_map.data for s in packed['data_samples'])
    first[..., :, 12:] = 1.0  # other values under the padding
    second[..., 10:, :] = 1.0
    again = model(**packed, mode='loss')
    for key in losses:
        torch.testing.assert_close(again[key], losses[key])


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


def test_postprocessors_see_the_original_image_from_the_sample():
    model = _detector(postprocessors=[dict(type=_InvertMap)]).eval()
    bgr = np.zeros((12, 14, 3), np.uint8)
    bgr[..., 0] = 200  # blue in BGR
    results = dict(img=bgr, ori_img=bgr, img_shape=(12, 14), ori_shape=(12, 14))
    packed = PackSalInputs(keep_ori_img=True)(results)
    data = dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']])
    out = model(**model.data_preprocessor(data, False), mode='predict')
    seen = model.postprocessors[0].seen_image
    assert seen.dtype == torch.uint8
    assert seen.shape == (3, 12, 14) and seen[2].float().mean() == 200 and seen[0].sum() == 0
    assert torch.allclose(out[0].pred_sal_map.data, 1 - out[0].sal_logits.data.sigmoid())


def test_missing_original_image_names_the_fix():
    model = _detector(postprocessors=[dict(type=_InvertMap)]).eval()
    data = model.data_preprocessor(_batch([(12, 14)], img_path='photo.jpg'), False)
    with pytest.raises(SalboxError, match='keep_ori_img=True to PackSalInputs'):
        model(**data, mode='predict')


def test_postprocess_result_crops_padding_resizes_and_unflips():
    """Against an independent construction: a logit map whose value encodes its position."""
    model = _detector().eval()
    rows = torch.arange(10.).view(10, 1).expand(10, 16)
    cols = torch.arange(16.).view(1, 16).expand(10, 16)
    logits = (rows * 100 + cols)[None, None].repeat(2, 1, 1, 1)
    samples = [SalDataSample(metainfo=dict(img_shape=(8, 12), ori_shape=(8, 12))),
               SalDataSample(metainfo=dict(img_shape=(10, 16), ori_shape=(10, 16), flip=True,
                                           flip_direction='horizontal'))]
    out = model.postprocess_result(logits, samples)
    assert torch.equal(out[0].sal_logits.data[0], logits[0, 0, :8, :12])  # padding cropped
    assert torch.equal(out[1].sal_logits.data[0], logits[1, 0].flip(-1))  # un-flipped
    samples = [SalDataSample(metainfo=dict(img_shape=(10, 16), ori_shape=(5, 8), flip=True,
                                           flip_direction='vertical'))]
    small = model.postprocess_result(logits[:1], samples)[0].sal_logits.data[0]
    # align_corners=True (the tiny head's): corners map to corners, then the vertical un-flip
    assert small[0, 0] == logits[0, 0, 9, 0] and small[4, 7] == logits[0, 0, 0, 15]
    assert torch.allclose(small.sigmoid(), model.postprocess_result(
        logits[:1], samples)[0].pred_sal_map.data[0])


def test_neck_none_feeds_the_backbone_to_the_head():
    model = _detector(neck=None)
    assert model.neck is None
    assert model(torch.zeros(1, 3, 8, 8), mode='tensor')[0].shape == (1, 1, 8, 8)


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(RuntimeError, match='Invalid mode'):
        _detector()(torch.zeros(1, 3, 8, 8), mode='bogus')
