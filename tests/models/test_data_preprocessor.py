import pytest
import torch
from mmengine.structures import PixelData

from salbox.models import SalDataPreProcessor
from salbox.structures import SalDataSample


def _sample(h, w):
    sample = SalDataSample(metainfo=dict(img_path=f'{h}x{w}.jpg'))
    sample.gt_sal_map = PixelData(data=torch.rand(1, h, w))
    return sample


def test_bgr_to_rgb_normalise_and_pad_training_batch():
    pre = SalDataPreProcessor(mean=(10., 20., 30.), std=(2., 4., 5.), size_divisor=8)
    img_a = torch.zeros(3, 5, 6, dtype=torch.uint8)
    img_a[0] = 30  # B channel of a BGR image
    img_a[2] = 10  # R channel
    img_b = torch.full((3, 7, 4), 50, dtype=torch.uint8)
    samples = [_sample(5, 6), _sample(7, 4)]
    out = pre(dict(inputs=[img_a, img_b], data_samples=samples), training=True)
    batch, samples = out['inputs'], out['data_samples']
    assert batch.shape == (2, 3, 8, 8)
    # R first after conversion: (10 - 10) / 2 = 0; B last: (30 - 30) / 5 = 0; G: (0 - 20) / 4.
    assert torch.allclose(batch[0, :, :5, :6],
                          torch.tensor([0., -5., 0.]).view(3, 1, 1).expand(3, 5, 6))
    assert batch[0, :, 5:, :].abs().sum() == 0  # padding
    assert samples[1].img_shape == (7, 4) and samples[1].pad_shape == (8, 8)
    assert samples[0].gt_sal_map.data.shape == (1, 8, 8)


def test_mask_image_mismatch_names_the_files():
    pre = SalDataPreProcessor()
    sample = _sample(4, 4)
    sample.set_metainfo(dict(gt_path='mask_a.png'))
    with pytest.raises(ValueError, match='mask_a.png'):
        pre(dict(inputs=[torch.zeros(3, 5, 5, dtype=torch.uint8)], data_samples=[sample]),
            training=True)


def test_test_time_keeps_ground_truth_at_original_size():
    pre = SalDataPreProcessor()
    sample = _sample(9, 9)
    out = pre(dict(inputs=[torch.zeros(3, 4, 4, dtype=torch.uint8)], data_samples=[sample]))
    assert out['inputs'].shape == (1, 3, 4, 4)
    sample = out['data_samples'][0]
    assert sample.img_shape == (4, 4)
    assert sample.gt_sal_map.data.shape == (1, 9, 9)
