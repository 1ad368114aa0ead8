"""The promoter's fast inference path computes the same numbers as the explicit LDPS layers:
the fused 1x1 conv distributed over the taps, the anchor half of the discriminator as a
per-image bias, and BatchNorm folded into the convs."""
import copy

import pytest
import torch
import torch.nn.functional as F

from salbox.models.promoters import (PairDiscriminator, build_promoter, fuse_taps,
                                     inference_copy, project_fused_taps)


def _taps(size, batch=2, widths=(32, 24, 96, 320), strides=(2, 4, 16, 32)):
    # Ceil division, as a stride-s conv stack produces on odd sizes.
    return [torch.randn(batch, c, -(-size[0] // s), -(-size[1] // s), dtype=torch.float64)
            for c, s in zip(widths, strides)]


@pytest.mark.parametrize('memory_format', [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize('align_corners', [True, False])
@pytest.mark.parametrize('size', [(256, 256), (97, 130), (32, 48)])
def test_projected_fusion_equals_conv_on_the_fused_map(size, align_corners, memory_format):
    """Both layouts: NCHW (matrix products) and channels-last (the bfloat16 copy's path)."""
    torch.manual_seed(0)
    taps = [t.contiguous(memory_format=memory_format).requires_grad_() for t in _taps(size)]
    weight = torch.randn(472, 472, 1, 1, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(472, dtype=torch.float64)
    explicit = F.conv2d(fuse_taps(taps, align_corners), weight, bias)
    fast = project_fused_taps(taps, weight, bias, align_corners)
    assert fast.shape == explicit.shape
    assert fast.is_contiguous(memory_format=memory_format)
    torch.testing.assert_close(fast, explicit, rtol=1e-10, atol=1e-10)
    grad = torch.randn_like(explicit)
    g_explicit = torch.autograd.grad(explicit, taps + [weight], grad)
    g_fast = torch.autograd.grad(fast, taps + [weight], grad)
    for a, b in zip(g_fast, g_explicit):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-9)


def test_projected_fusion_rejects_a_weight_of_another_width():
    with pytest.raises(ValueError, match='472 channels'):
        project_fused_taps(_taps((64, 64)), torch.randn(8, 100, 1, 1, dtype=torch.float64))


@pytest.mark.parametrize('num_layers', [1, 2, 5])
@pytest.mark.parametrize('anchor_first', [True, False])
def test_discriminator_pairs_equal_the_concatenated_pairs(num_layers, anchor_first):
    torch.manual_seed(0)
    disc = PairDiscriminator(64, 64, num_layers).double().eval()
    for m in disc.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    anchor = torch.randn(3, 32, dtype=torch.float64)
    pixels = torch.randn(3, 32, 9, 11, dtype=torch.float64)
    expanded = anchor[:, :, None, None].expand_as(pixels)
    pairs = torch.cat([expanded, pixels] if anchor_first else [pixels, expanded], dim=1)
    torch.testing.assert_close(disc.pairs(anchor, pixels, anchor_first), disc(pairs),
                               rtol=1e-12, atol=1e-12)


def _with_random_bn_statistics(model):
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
    return model


def test_inference_copy_folds_batchnorm_and_promotes_the_same_maps():
    torch.manual_seed(0)
    model = _with_random_bn_statistics(build_promoter(dict(
        type='MIRelationNet', backbone=dict(type='MobileNetV2'), input_size=(96, 96)))).eval()
    before = copy.deepcopy(model.state_dict())
    fast = inference_copy(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    # The source model is untouched (it may still be fitted or run online).
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    image = torch.randint(0, 256, (3, 120, 100), dtype=torch.uint8)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 120), torch.linspace(-1, 1, 100),
                            indexing='ij')
    prior = torch.exp(-(xx ** 2 + yy ** 2) * 2)[None]
    with torch.no_grad():
        ref, has_ref = model.promote(image, prior)
        out, has = fast.promote(image, prior)
    assert has and has_ref
    assert not torch.equal(ref, prior)  # the relation changed the map, so this compares work
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)


def test_inference_copy_keeps_batchnorm_for_image_statistics():
    model = build_promoter(dict(type='MIRelationNet', backbone=dict(type='MobileNetV2'),
                                test_bn_stats='image'))
    fast = inference_copy(model)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())


def test_bfloat16_copy_scores_pixels_as_the_float32_model_does():
    torch.manual_seed(0)
    model = _with_random_bn_statistics(build_promoter(dict(
        type='MIRelationNet', backbone=dict(type='MobileNetV2'), input_size=(96, 96)))).eval()
    fast, half = inference_copy(model), inference_copy(model, 'bf16')
    assert half.compute_dtype == torch.bfloat16 and model.compute_dtype == torch.float32
    conv = half.aspp.reduce[1].conv.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert half.data_preprocessor.mean.dtype == torch.float32  # normalisation stays exact
    image = torch.randint(0, 256, (3, 120, 100), dtype=torch.uint8)
    inputs = fast.normalise_rgb(image)
    prior = torch.linspace(0, 1, 96)[None, None, :, None].expand(1, 1, 96, 96)
    with torch.no_grad():
        ref, _ = fast.relation_logits(fast._resize(inputs, (96, 96)), prior)
        out, _ = half.relation_logits(half._resize(inputs, (96, 96)), prior)
    assert out.dtype == torch.float32
    assert not torch.equal(out, ref)  # it did run in another precision
    torch.testing.assert_close(out.sigmoid(), ref.sigmoid(), rtol=0, atol=0.01)


def test_bfloat16_copy_warns_on_a_cpu_without_bfloat16_units(monkeypatch):
    import warnings

    import salbox.models.promoters.fitting as fitting
    model = build_promoter(dict(type='MIRelationNet', backbone=dict(type='MobileNetV2')))
    monkeypatch.setattr(fitting, 'bf16_units', lambda: [])
    with pytest.warns(UserWarning, match='no bfloat16 units'):
        inference_copy(model, 'bf16')
    monkeypatch.setattr(fitting, 'bf16_units', lambda: ['amx_bf16'])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        inference_copy(model, 'bf16')
        inference_copy(model)  # float32 never asks


def test_inference_copy_rejects_an_unknown_precision():
    with pytest.raises(ValueError, match="'fp16'"):
        inference_copy(build_promoter(dict(type='MIRelationNet',
                                           backbone=dict(type='MobileNetV2'))), 'fp16')
