"""DGRL's RLN: recurrent ResNet, contextual weighting modules, per-pass head.

Reference numbers: the official Caffe prototxt (stage1/train/train.prototxt): feedback convs 24.9M for
ResNet-50 (2048->1024 alone 18.9M), 7x7 context conv on res5 3.2M, heads 13.7M per pass (2-class
classifier), about 90M unique parameters in all.
"""
import pytest
import torch
import torch.nn.functional as F

from salbox.models.backbones import (EfficientNetLite, RecurrentEfficientNetLite,
                                      RecurrentResNet, ResNet)
from salbox.models.heads import RLNHead
from salbox.models.necks import ContextualWeightingFusion, ContextualWeightingModule
from salbox.models.necks.contextual_weighting import ChannelL2Norm, caffe_shrink_size
from salbox.registry import MODELS

pytestmark = pytest.mark.usefixtures('one_thread')  # tests/conftest.py


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _conv(c_in, c_out, k, bias=False) -> int:
    return c_in * c_out * k * k + (c_out if bias else 0)


def _small_recurrent(**kwargs):
    torch.manual_seed(0)
    cfg = dict(depth=18, out_indices=(2, 3, 4))
    cfg.update(kwargs)
    return RecurrentResNet(**cfg).eval()


# ----------------------------------------------------------------------------- backbone
def test_recurrent_resnet_returns_one_feature_tuple_per_pass():
    model = _small_recurrent(num_passes=3)
    passes = model(torch.rand(2, 3, 64, 64))
    assert len(passes) == 3
    for feats in passes:
        assert [tuple(f.shape) for f in feats] == [(2, 128, 8, 8), (2, 256, 4, 4), (2, 512, 2, 2)]


def test_first_pass_is_the_plain_resnet_and_later_passes_use_feedback():
    model = _small_recurrent(num_passes=3, out_indices=(0, 1, 2, 3, 4))
    plain = ResNet(depth=18).eval()
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith('feedback_convs')})
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        passes = model(x)
        reference = plain(x)
    for got, want in zip(passes[0], reference):
        assert torch.allclose(got, want, atol=1e-6)
    assert not torch.allclose(passes[1][-1], passes[0][-1])
    # With zero feedback every pass equals the plain ResNet.
    with torch.no_grad():
        for conv in model.feedback_convs[0]:
            conv.weight.zero_()
        passes = model(x)
    for feats in passes:
        assert torch.allclose(feats[-1], reference[-1], atol=1e-6)


def test_feedback_wiring_matches_the_official_layout():
    model = RecurrentResNet(depth=50, out_indices=(2, 3, 4))
    shapes = [tuple(conv.weight.shape) for conv in model.feedback_convs[0]]
    # 256->64 after the stem ReLU, 512->256, 1024->512, 2048->1024 (3x3, no bias).
    assert shapes == [(64, 256, 3, 3), (256, 512, 3, 3), (512, 1024, 3, 3), (1024, 2048, 3, 3)]
    assert all(conv.bias is None for conv in model.feedback_convs[0])
    assert len(model.feedback_convs) == 1  # shared by the transitions 1->2 and 2->3
    assert _count(model.feedback_convs) == 24_920_064  # reference: 24.9M
    assert _count(model.feedback_convs[0][3]) == 18_874_368  # reference: 18.9M
    backbone_only = _count(model) - _count(model.feedback_convs)
    assert backbone_only == 23_508_032  # torchvision ResNet-50 without fc (reference: 23.5M)
    # The torchvision names are kept (no prefix), so a torchvision .pth loads as is.
    assert 'layer4.2.conv3.weight' in model.state_dict() and 'conv1.weight' in model.state_dict()


def test_unshared_feedback_has_one_set_per_transition():
    model = _small_recurrent(num_passes=3, share_feedback=False)
    assert len(model.feedback_convs) == 2
    shared = _small_recurrent(num_passes=3)
    assert _count(model) - _count(shared) == _count(shared.feedback_convs)


def test_gradients_reach_the_feedback_convs_and_every_pass():
    model = _small_recurrent(num_passes=2).train()
    passes = model(torch.rand(2, 3, 64, 64))
    passes[-1][-1].mean().backward()
    assert all(conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
               for conv in model.feedback_convs[0][1:])


def test_invalid_number_of_passes_is_a_clear_error():
    with pytest.raises(ValueError, match='num_passes'):
        RecurrentResNet(depth=18, num_passes=0)


def _small_recurrent_lite(**kwargs):
    torch.manual_seed(0)
    cfg = dict(arch='lite0', out_indices=(2, 3, 4))
    cfg.update(kwargs)
    return RecurrentEfficientNetLite(**cfg).eval()


def test_recurrent_lite_first_pass_is_the_plain_backbone_and_feedback_changes_later_passes():
    model = _small_recurrent_lite(num_passes=3)
    plain = EfficientNetLite(arch='lite0', out_indices=(2, 3, 4)).eval()
    missing = plain.load_state_dict({k: v for k, v in model.state_dict().items()
                                     if not k.startswith('feedback_convs')})
    assert not missing.missing_keys and not missing.unexpected_keys
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        passes = model(x)
        reference = plain(x)
    assert len(passes) == 3
    for got, want in zip(passes[0], reference):
        assert torch.equal(got, want)
    change = (passes[1][-1] - passes[0][-1]).abs().max()
    assert change > 0.01 * passes[0][-1].abs().max()  # random-init features are tiny
    with torch.no_grad():  # zero feedback: every pass is the plain backbone
        for conv in model.feedback_convs[0]:
            conv.weight.zero_()
        passes = model(x)
    for feats in passes:
        assert torch.equal(feats[-1], reference[-1])


def test_recurrent_lite_feedback_maps_each_stage_output_to_its_input_width():
    model = RecurrentEfficientNetLite(arch='lite2', out_indices=(2, 3, 4))
    shapes = [tuple(conv.weight.shape[:2]) for conv in model.feedback_convs[0]]
    # Lite2 taps 16, 24, 48, 120, 352 channels; stage 0's input is the 32-channel stem.
    assert shapes == [(32, 16), (16, 24), (24, 48), (48, 120), (120, 352)]
    assert [n for n, _ in model.named_parameters() if n.startswith('feedback')] == [
        f'feedback_convs.0.{i}.weight' for i in range(5)]
    # Stages after the last selected tap neither run nor get feedback convs.
    short = RecurrentEfficientNetLite(arch='lite2', out_indices=(1, 2))
    assert [tuple(c.weight.shape[:2]) for c in short.feedback_convs[0]] == [
        (32, 16), (16, 24), (24, 48)]
    unshared = _small_recurrent_lite(num_passes=3, share_feedback=False)
    assert len(unshared.feedback_convs) == 2
    assert len(_small_recurrent_lite(num_passes=1).feedback_convs) == 0


def test_recurrent_lite_gradients_reach_every_feedback_conv():
    model = _small_recurrent_lite(num_passes=2).train()
    passes = model(torch.rand(2, 3, 64, 64))
    passes[-1][-1].mean().backward()
    assert all(conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
               for conv in model.feedback_convs[0])
    with pytest.raises(ValueError, match='num_passes'):
        RecurrentEfficientNetLite(num_passes=0)


# ----------------------------------------------------------------------------- CWM
def test_caffe_interp_shrink_sizes():
    assert caffe_shrink_size((48, 24, 12, 7)) == [24, 12, 6, 4]


def test_channel_l2_norm_has_norm_equal_to_its_scale():
    norm = ChannelL2Norm(32)
    assert torch.all(norm.weight == 10)
    out = norm(torch.randn(2, 32, 5, 5))
    assert torch.allclose(out.norm(dim=1), torch.full((2, 5, 5), 10.0), atol=1e-4)


def test_cwm_weight_map_is_a_spatial_softmax_with_mean_one():
    torch.manual_seed(0)
    cwm = ContextualWeightingModule(64, channels=16, context_channels=8)
    with torch.no_grad():
        cwm.weight_conv.weight.normal_(std=1.0)  # non-trivial weights
    x = torch.randn(2, 64, 12, 12)
    small = F.interpolate(x, size=(6, 6), mode='bilinear', align_corners=True)
    context = torch.cat([n(c(small)) for c, n in zip(cwm.context_convs, cwm.context_norms)], 1)
    score = cwm.weight_conv(context).flatten(1)
    expected_small = (score.softmax(1) * 36).view(2, 1, 6, 6)
    expected = F.interpolate(expected_small, size=(12, 12), mode='bilinear', align_corners=True)
    weights = cwm.weight_map(x)
    assert torch.allclose(weights, expected, atol=1e-5)
    assert torch.allclose(expected_small.mean(dim=(2, 3)), torch.ones(2, 1), atol=1e-5)
    assert weights.std() > 0.01
    assert torch.allclose(cwm(x), cwm.feature_conv(x) * weights, atol=1e-6)


def test_cwm_parameter_count_matches_the_official_layers():
    cwm = ContextualWeightingModule(2048)
    assert _count(cwm.context_convs[2]) == 3_211_264  # reference: 7x7 at res5, 3.2M per pass
    expected = (_conv(2048, 128, 3) + sum(_conv(2048, 32, k) for k in (3, 5, 7)) + 3 * 32
                + _conv(96, 1, 3))
    assert _count(cwm) == expected


def test_head_per_pass_parameters_match_the_reference():
    head = RLNHead()
    per_pass = _count(head.pass_heads[0])
    # The official 2-class classifier has 129 more parameters than our 1-logit one.
    official = per_pass + 129
    assert official == sum(_count(ContextualWeightingModule(c)) for c in (512, 1024, 2048)) \
        + _conv(128, 128, 1, bias=True) + _conv(128, 2, 1, bias=True)
    assert round(official / 1e6, 1) == 13.7  # reference: 13.7M per pass
    assert len(head.pass_heads) == 3 and _count(head) == 3 * per_pass  # not shared


def test_rln_total_parameters_are_about_90m():
    model = MODELS.build(dict(
        type='SaliencyDetector',
        backbone=dict(type='RecurrentResNet', depth=50, out_indices=(2, 3, 4)),
        head=dict(type='RLNHead')))
    total = _count(model) + 3 * 129  # in the official 2-class form
    assert round(total / 1e6) == 89 and abs(total - 90e6) < 1e6  # reference: ~90M


def test_fusion_sums_levels_at_the_finest_size():
    torch.manual_seed(0)
    fusion = ContextualWeightingFusion((8, 16, 32), channels=8, context_channels=4)
    feats = [torch.randn(1, 8, 16, 16), torch.randn(1, 16, 8, 8), torch.randn(1, 32, 4, 4)]
    out = fusion(feats)
    weighted = [fusion.cwms[0](feats[0])] + [
        F.interpolate(cwm(f), size=(16, 16), mode='bilinear', align_corners=True)
        for cwm, f in zip(fusion.cwms[1:], feats[1:])]
    expected = fusion.cls_conv(fusion.fuse_conv(sum(weighted)))
    assert out.shape == (1, 1, 16, 16) and torch.allclose(out, expected, atol=1e-6)
    with pytest.raises(ValueError, match='expected 3 feature maps'):
        fusion(feats[:2])


# ----------------------------------------------------------------------------- detector
def test_rln_detector_supervises_every_pass_and_predicts_the_last():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='SaliencyDetector',
        backbone=dict(type='RecurrentResNet', depth=18, out_indices=(2, 3, 4)),
        head=dict(type='RLNHead', in_channels=(128, 256, 512), channels=16, context_channels=4)))
    assert model.align_corners is True  # the official Interp x8
    inputs = torch.rand(2, 3, 64, 64)
    from mmengine.structures import PixelData
    from salbox.structures import SalDataSample
    samples = [SalDataSample(gt_sal_map=PixelData(data=torch.rand(1, 64, 64)))
               for _ in range(2)]
    losses = model(inputs, samples, mode='loss')
    assert sorted(losses) == ['loss_sal_0', 'loss_sal_1', 'loss_sal_2']
    sum(losses.values()).backward()
    assert all(head.cls_conv.weight.grad is not None for head in model.head.pass_heads)
    model.eval()
    logits = model(inputs, mode='tensor')
    assert len(logits) == 3 and all(lg.shape == (2, 1, 64, 64) for lg in logits)
    with pytest.raises(ValueError, match='3 passes'):
        model.head(model.backbone(inputs)[:2])


def test_official_head_lr_multipliers_select_the_right_parameters():
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    init_default_scope('salbox')  # the config's constructor is salbox's
    cfg = Config.fromfile('configs/dgrl/dgrl_rln_r18_synthetic.py')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base = cfg.optim_wrapper.optimizer.lr
    lrs = {id(p): (g['lr'], g['weight_decay'])
           for g in wrapper.optimizer.param_groups for p in g['params']}
    head = model.head.pass_heads[1]
    assert lrs[id(head.cwms[0].feature_conv.weight)][0] == pytest.approx(10 * base)
    assert lrs[id(head.cwms[2].context_norms[1].weight)][0] == pytest.approx(10 * base)
    assert lrs[id(head.cls_conv.bias)] == (pytest.approx(20 * base), 0)
    assert lrs[id(model.backbone.layer1[0].conv1.weight)][0] == pytest.approx(base)
    assert lrs[id(model.backbone.feedback_convs[0][0].weight)][0] == pytest.approx(base)


def test_lite2_recipes_wire_the_recurrent_backbone_to_the_head_and_the_brn():
    """configs/dgrl/dgrl_rln_efficientnet-lite2_*.py: channels agree, the new feedback convs get
    the full lr while the ImageNet weights get 0.3x, and the BRN's first stage is that RLN."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    init_default_scope('salbox')
    rln_cfg = Config.fromfile('configs/dgrl/dgrl_rln_efficientnet-lite2_duts-tr_structure-320.py')
    rln_cfg.model.backbone.pop('init_cfg')
    rln = MODELS.build(rln_cfg.model)
    assert rln.backbone.out_channels == tuple(rln_cfg.model.head.in_channels) == (48, 120, 352)
    assert rln.backbone.norm_eval and rln.backbone.num_passes == rln.head.num_passes == 3
    wrapper = build_optim_wrapper(rln, rln_cfg.optim_wrapper)
    lrs = {id(p): g['lr'] for g in wrapper.optimizer.param_groups for p in g['params']}
    base = rln_cfg.optim_wrapper.optimizer.lr
    assert lrs[id(rln.backbone.feedback_convs[0][4].weight)] == pytest.approx(base)
    assert lrs[id(rln.backbone._blocks[3]._depthwise_conv.weight)] == pytest.approx(0.3 * base)
    assert lrs[id(rln.head.pass_heads[2].cls_conv.weight)] == pytest.approx(base)
    with torch.no_grad():
        logits = rln.eval()(torch.zeros(1, 3, 64, 64), mode='tensor')
    assert len(logits) == 3 and all(lg.shape == (1, 1, 64, 64) for lg in logits)

    brn_cfg = Config.fromfile(
        'configs/dgrl/dgrl_rln_efficientnet-lite2_brn_duts-tr_structure-320.py')
    assert brn_cfg.model.first_stage.to_dict() == Config.fromfile(
        'configs/dgrl/dgrl_rln_efficientnet-lite2_duts-tr_structure-320.py').model.to_dict()
    assert brn_cfg.model.first_stage_checkpoint.endswith(
        f'dgrl_rln_efficientnet-lite2_duts-tr_structure-320/iter_{rln_cfg.max_iters}.pth')
    brn_cfg.model.first_stage.backbone.pop('init_cfg')
    brn = MODELS.build(brn_cfg.model)
    assert brn.refiner_crop_size == 128 and brn.first_stage_input_size == (320, 320)
    wrapper = build_optim_wrapper(brn, brn_cfg.optim_wrapper)
    trained = {id(p) for g in wrapper.optimizer.param_groups for p in g['params']
               if p.requires_grad}
    assert trained == {id(p) for p in brn.refiner.parameters()}
