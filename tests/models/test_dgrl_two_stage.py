"""RefinedDetector: frozen first stage + trainable refiner (DGRL's two-stage training)."""
import copy

import pytest
import torch
from mmengine.structures import PixelData

from salbox.models.detectors.demo_gt_degrader import gaussian_blur
from salbox.registry import MODELS
from salbox.structures import SalDataSample

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


SMALL_RLN = dict(
    type='SaliencyDetector',
    backbone=dict(type='RecurrentResNet', depth=18, num_passes=2, out_indices=(2, 3, 4)),
    head=dict(type='RLNHead', in_channels=(128, 256, 512), num_passes=2, channels=8,
              context_channels=4))
SMALL_BRN = dict(type='BoundaryRefinementNet', channels=(4, 4, 4, 8, 8, 8), test_size=None)


def _first_stage_checkpoint(tmp_path):
    torch.manual_seed(1)
    first = MODELS.build(SMALL_RLN)
    path = str(tmp_path / 'rln.pth')
    torch.save(dict(state_dict=first.state_dict(), meta=dict()), path)
    return first, path


def _wrapper(path, **kwargs):
    torch.manual_seed(2)
    cfg = dict(type='RefinedDetector', first_stage=SMALL_RLN, first_stage_checkpoint=path,
               refiner=SMALL_BRN)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _batch(n=2, size=(32, 32)):
    """BGR inputs and samples carrying the same image as ``ori_img`` (RGB), as
    ``PackSalInputs(keep_ori_img=True)`` packs them."""
    inputs = [torch.randint(0, 256, (3, *size), dtype=torch.uint8) for _ in range(n)]
    samples = [SalDataSample(metainfo=dict(ori_shape=size),
                             gt_sal_map=PixelData(data=(torch.rand(1, *size) > 0.5).float()),
                             ori_img=PixelData(data=img.flip(0).contiguous()))
               for img in inputs]
    return dict(inputs=inputs, data_samples=samples)


def test_init_weights_loads_the_first_stage_and_state_dict_holds_both(tmp_path):
    first, path = _first_stage_checkpoint(tmp_path)
    model = _wrapper(path)
    for key, value in first.state_dict().items():
        assert torch.equal(model.state_dict()['first_stage.' + key], value)
    assert any(k.startswith('refiner.') for k in model.state_dict())


def test_only_the_refiner_gets_gradients_and_the_first_stage_stays_in_eval(tmp_path):
    _, path = _first_stage_checkpoint(tmp_path)
    model = _wrapper(path).train()
    assert model.refiner.training and not model.first_stage.training
    assert not any(m.training for m in model.first_stage.modules())
    running_mean = model.first_stage.backbone.bn1.running_mean.clone()
    data = model.data_preprocessor(_batch(), True)
    losses = model(**data, mode='loss')
    assert list(losses) == ['loss_refine_0']
    losses['loss_refine_0'].backward()
    assert all(p.grad is None and not p.requires_grad for p in model.first_stage.parameters())
    assert all(p.grad is not None for p in model.refiner.parameters())
    assert torch.equal(model.first_stage.backbone.bn1.running_mean, running_mean)


def test_refiner_sees_the_first_stage_map_at_its_own_input_size(tmp_path):
    first, path = _first_stage_checkpoint(tmp_path)
    model = _wrapper(path, first_stage_input_size=(48, 48))
    seen = []
    model.first_stage.backbone.register_forward_pre_hook(lambda m, a: seen.append(a[0].shape))
    data = model.data_preprocessor(_batch(size=(32, 40)), True)
    priors = model.first_stage_maps(data['inputs'])
    assert seen[-1][-2:] == (48, 48) and priors.shape == (2, 1, 32, 40)
    images = model.data_preprocessor.denormalize(data['inputs'])
    raw = torch.stack(_batch(size=(32, 40))['inputs']).float()
    assert images.shape == raw.shape and images.min() >= -1e-3 and images.max() <= 255.01


def test_refiner_crop_trains_on_the_same_window_of_image_prior_and_mask(tmp_path):
    _, path = _first_stage_checkpoint(tmp_path)
    model = _wrapper(path, refiner_crop_size=12)
    torch.manual_seed(3)
    base = torch.arange(2 * 32 * 32, dtype=torch.float32).view(2, 1, 32, 32)
    windows = model.random_windows(base, base * 2, None)
    assert windows[0].shape == (2, 1, 12, 12) and windows[2] is None
    assert torch.equal(windows[1], windows[0] * 2)  # one window per sample, for every batch
    for sample, window in zip(base, windows[0]):  # a contiguous block of that sample
        top, left = divmod(int(window[0, 0, 0]) - int(sample[0, 0, 0]), 32)
        assert torch.equal(window, sample[:, top:top + 12, left:left + 12])
    seen = set()
    for _ in range(20):
        seen.add(int(model.random_windows(base)[0][0, 0, 0, 0]))
    assert len(seen) > 1  # the position is random
    # Training runs on the windows only: the refiner sees 12x12 inputs.
    shapes = []
    model.refiner.register_forward_hook(lambda m, args, out: shapes.append(tuple(out.shape)))
    data = model.data_preprocessor(_batch(), training=True)
    losses = model.loss(**data)
    assert shapes == [(2, 1, 12, 12)] and torch.isfinite(losses['loss_refine_0'])
    # An input no larger than the window is used whole.
    assert model.random_windows(base[..., :10, :10])[0].shape == (2, 1, 10, 10)
    with pytest.raises(ValueError, match='refiner_crop_size'):
        _wrapper(path, refiner_crop_size=0)


def test_denormalize_undoes_the_preprocessor(tmp_path):
    _, path = _first_stage_checkpoint(tmp_path)
    model = _wrapper(path)
    batch = _batch(n=1)
    data = model.data_preprocessor(batch, False)
    rgb = batch['inputs'][0].flip(0).float()  # loaded BGR
    assert torch.allclose(model.data_preprocessor.denormalize(data['inputs'])[0], rgb, atol=1e-3)
    prior_logit, refined = model(data['inputs'], mode='tensor')
    assert prior_logit.shape == refined.shape == (1, 1, 32, 32)
    binary_prior = (prior_logit.sigmoid() >= 0.5).float()
    assert torch.allclose(refined, 2 * binary_prior - 1, atol=5e-3)  # identity at the start


def test_predict_refines_the_first_stage_prediction_at_original_size(tmp_path):
    first, path = _first_stage_checkpoint(tmp_path)
    model = _wrapper(path).eval()
    batch = _batch(n=1, size=(30, 34))
    again = copy.deepcopy(batch)
    out = model(**model.data_preprocessor(batch, False), mode='predict')[0]
    prior = out.prior_sal_map.data
    assert out.pred_sal_map.data.shape == prior.shape == (1, 30, 34)
    # The prior is the first stage's own prediction.
    with torch.no_grad():
        alone = first.eval().predict(**model.data_preprocessor(again, False))
    assert torch.allclose(prior, alone[0].pred_sal_map.data, atol=1e-6)
    # At initialisation the BRN returns its (binarised) prior.
    assert torch.allclose(out.pred_sal_map.data, (prior >= 0.5).float(), atol=1e-3)
    # sal_logits are the refined stage's: 2 s - 1 on the binarised prior at the start,
    # not the first stage's logits.
    assert torch.allclose(out.sal_logits.data, 2 * (prior >= 0.5).float() - 1, atol=5e-3)
    # The same map as the BRN's post-processor interface on (original image, prior).
    image = batch['data_samples'][0].ori_img.data
    assert torch.allclose(out.pred_sal_map.data, model.refiner.refine(image, prior)[1])


def test_predict_unflips_before_refining(tmp_path):
    """Input flipped by the pipeline (flip metainfo): the prior is the flipped input's map flipped
    back, and the refiner works on it with the original (unflipped) image."""
    _, path = _first_stage_checkpoint(tmp_path)
    model = _wrapper(path).eval()
    plain = _batch(n=1, size=(24, 28))
    image = plain['data_samples'][0].ori_img.data
    flipped_input = plain['inputs'][0].flip(-1)
    as_flipped = dict(inputs=[flipped_input], data_samples=[SalDataSample(
        metainfo=dict(ori_shape=(24, 28)), ori_img=PixelData(data=image.flip(-1)))])
    with_meta = dict(inputs=[flipped_input], data_samples=[SalDataSample(
        metainfo=dict(ori_shape=(24, 28), flip=True, flip_direction='horizontal'),
        ori_img=PixelData(data=image))])
    a = model(**model.data_preprocessor(as_flipped, False), mode='predict')[0]
    b = model(**model.data_preprocessor(with_meta, False), mode='predict')[0]
    assert not torch.allclose(a.prior_sal_map.data, a.prior_sal_map.data.flip(-1), atol=1e-5)
    assert torch.allclose(b.prior_sal_map.data, a.prior_sal_map.data.flip(-1), atol=1e-6)
    assert torch.allclose(b.pred_sal_map.data,
                          model.refiner.refine(image, b.prior_sal_map.data)[1])


def test_missing_first_stage_checkpoint_is_a_clear_error(tmp_path):
    model = MODELS.build(dict(type='RefinedDetector', first_stage=SMALL_RLN, refiner=SMALL_BRN))
    with pytest.raises(ValueError, match='first_stage_checkpoint is not set'):
        model.init_weights()
    model = MODELS.build(dict(type='RefinedDetector', first_stage=SMALL_RLN, refiner=SMALL_BRN,
                              first_stage_checkpoint=str(tmp_path / 'nope.pth')))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        model.init_weights()


def test_ground_truth_degrader_first_stage_needs_no_checkpoint():
    model = MODELS.build(dict(type='RefinedDetector',
                              first_stage=dict(type='GroundTruthDegrader', sigma=2.0),
                              refiner=SMALL_BRN))
    model.init_weights()
    data = model.data_preprocessor(_batch(size=(24, 24)), True)
    priors = model.first_stage_maps(data['inputs'], data['data_samples'])
    gt = torch.stack([s.gt_sal_map.data for s in data['data_samples']])
    assert torch.allclose(priors, gaussian_blur(gt, 2.0).clamp(1e-4, 1 - 1e-4), atol=1e-5)
    out = model(**model.data_preprocessor(_batch(n=1, size=(24, 24)), False), mode='predict')
    assert out[0].pred_sal_map.data.shape == (1, 24, 24)


def test_gaussian_blur_keeps_mass_and_constants():
    maps = torch.zeros(1, 1, 21, 21)
    maps[0, 0, 10, 10] = 1
    blurred = gaussian_blur(maps, 1.5)
    assert blurred.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert blurred[0, 0, 10, 10] < 0.2
    assert torch.allclose(gaussian_blur(torch.ones(1, 1, 9, 9), 2.0), torch.ones(1, 1, 9, 9))


def test_ground_truth_degrader_unflips_like_every_detector():
    """A flipped sample (flip metainfo, GT flipped with the image by the pipeline) gives the
    blurred GT in the original orientation, at the original size."""
    model = MODELS.build(dict(type='GroundTruthDegrader', sigma=1.0)).eval()
    gt = torch.zeros(1, 12, 16)
    gt[:, 3:8, 1:5] = 1  # off-centre, so a missing un-flip shows
    flipped = SalDataSample(metainfo=dict(ori_shape=(12, 16), flip=True,
                                          flip_direction='horizontal'),
                            gt_sal_map=PixelData(data=gt.flip(-1)))
    data = model.data_preprocessor(dict(inputs=[torch.zeros(3, 12, 16, dtype=torch.uint8)],
                                        data_samples=[flipped]), False)
    out = model(**data, mode='predict')[0].pred_sal_map.data
    expected = gaussian_blur(gt[None], 1.0)[0].clamp(1e-4, 1 - 1e-4)
    assert torch.allclose(out, expected, atol=1e-5)
