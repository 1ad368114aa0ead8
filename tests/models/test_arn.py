"""ARN (arXiv 1808.01634): VGG backbone, RCL, SAGAN self-attention, ARN neck and head, configs."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from salbox.models.backbones import VGG
from salbox.models.heads import ARNHead
from salbox.models.layers import RecurrentConvLayer, SelfAttention2d
from salbox.models.layers.rcl import local_response_norm
from salbox.models.layers.self_attention import attention_explicit, attention_fused
from salbox.models.necks import ARNNeck
from salbox.registry import MODELS

# torchvision's vgg.py configurations, written out here independently of salbox's VGG:
# numbers are conv widths, 'M' a 2x2 max-pool.
TORCHVISION_CFGS = {
    11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M',
         512, 512, 512, 512, 'M'],
}


def count(module):
    return sum(p.numel() for p in module.parameters())


def torchvision_feature_shapes(depth, with_bn):
    """``features.N.*`` names and shapes as torchvision's ``make_layers`` numbers them
    (conv [, bn], relu per width, one module per 'M'), plus the classifier keys of the file."""
    shapes, index, in_channels = {}, 0, 3
    for item in TORCHVISION_CFGS[depth]:
        if item == 'M':
            index += 1
            continue
        shapes[f'features.{index}.weight'] = (item, in_channels, 3, 3)
        shapes[f'features.{index}.bias'] = (item, )
        index += 1
        if with_bn:
            for name in ('weight', 'bias', 'running_mean', 'running_var'):
                shapes[f'features.{index}.{name}'] = (item, )
            shapes[f'features.{index}.num_batches_tracked'] = ()
            index += 1
        index += 1  # ReLU
        in_channels = item
    return shapes


# ----------------------------------------------------------------------------- VGG
@pytest.mark.parametrize('depth', [11, 13, 16, 19])
@pytest.mark.parametrize('with_bn', [False, True])
def test_vgg_matches_torchvision_layout_and_parameter_count(depth, with_bn):
    with torch.device('meta'):
        model = VGG(depth=depth, with_bn=with_bn)
    expected = torchvision_feature_shapes(depth, with_bn)
    state = model.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == expected
    # Parameter count from the layer list: 3x3 conv = 9 * c_in * c_out + c_out (+ 2 c_out BN).
    total, in_channels = 0, 3
    for item in TORCHVISION_CFGS[depth]:
        if item != 'M':
            total += 9 * in_channels * item + item + (2 * item if with_bn else 0)
            in_channels = item
    assert count(model) == total


def test_vgg16_loads_a_torchvision_state_dict_without_key_mapping(tmp_path):
    generator = torch.Generator().manual_seed(0)
    for with_bn in (False, True):
        shapes = torchvision_feature_shapes(16, with_bn)
        state = {k: (torch.randn(s, generator=generator) if s else torch.tensor(7))
                 for k, s in shapes.items()}
        state['classifier.0.weight'] = torch.randn(8, 4)  # ignored: no classifier here
        path = tmp_path / f'vgg16_bn{with_bn}.pth'
        torch.save(state, path)
        model = VGG(depth=16, with_bn=with_bn,
                    init_cfg=dict(type='Pretrained', checkpoint=str(path)))
        model.init_weights()
        loaded = model.state_dict()
        assert set(loaded) == set(shapes)
        assert all(torch.equal(loaded[k], state[k]) for k in loaded)


def test_vgg16_stage_outputs_before_pooling():
    model = VGG(depth=16, widths=(4, 8, 8, 16, 16)).eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        outs = model(x)
        # conv1_2 is the output of features[0..3] (conv, relu, conv, relu): no pooling yet.
        assert torch.equal(outs[0], model.features[:4](x))
        assert torch.equal(outs[4], model.features[:30](x))  # conv5_3 + ReLU, before pool5
    sizes = [(o.shape[1], o.shape[-1]) for o in outs]
    assert sizes == [(4, 224), (8, 112), (8, 56), (16, 28), (16, 14)]
    part = VGG(depth=16, out_indices=(1, 2, 3, 4), widths=(4, 8, 8, 16, 16)).eval()
    part.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(part(x), outs[1:]))
    assert part.out_channels == (8, 8, 16, 16)


def test_vgg_frozen_stages_norm_eval_and_errors():
    model = VGG(depth=16, with_bn=True, frozen_stages=1, norm_eval=True,
                widths=(4, 4, 8, 8, 8)).train()
    stop = model.stage_slices[1][1]
    assert all(not p.requires_grad for p in model.features[:stop].parameters())
    assert all(p.requires_grad for p in model.features[stop:].parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert isinstance(MODELS.build(dict(type='VGG', depth=11)), VGG)
    with pytest.raises(KeyError, match='depth 12'):
        VGG(depth=12)
    with pytest.raises(ValueError, match='out_indices'):
        VGG(out_indices=(5, ))


# ----------------------------------------------------------------------------- RCL
def lrn_eq8_loop(f, size, alpha, beta, k=1.0):
    """ARN Eq. 8 channel by channel: f_k / (k + alpha/N sum_{k'=max(0,k-N/2)}^{min(K,k+N/2)}
    f_k'^2)^beta, with N/2 rounded down and the upper end clipped to the last channel."""
    channels = f.shape[1]
    out = torch.empty_like(f)
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels - 1, c + size // 2)
        total = (f[:, lo:hi + 1] ** 2).sum(dim=1)
        out[:, c] = f[:, c] / (k + alpha / size * total) ** beta
    return out


@pytest.mark.parametrize('size', [3, 4, 17])
def test_lrn_is_eq8(size):
    f = torch.rand(2, 24, 5, 6) * 30  # large enough for the normaliser to matter
    expected = lrn_eq8_loop(f, size, 1e-3, 0.75)
    assert torch.allclose(local_response_norm(f, size, 1e-3, 0.75), expected, atol=1e-5)
    assert not torch.allclose(expected, f, atol=1e-2)
    if size % 2:  # odd windows coincide with torch's LRN (which divides alpha by size too)
        torch_lrn = F.local_response_norm(f, size, alpha=1e-3, beta=0.75, k=1.0)
        assert torch.allclose(torch_lrn, expected, atol=1e-5)


def test_rcl_shares_one_recurrent_kernel_and_sums_its_gradients():
    torch.manual_seed(0)
    rcl = RecurrentConvLayer(8, 16, num_steps=3)
    # One parameter set whatever T: w_f, b and w_r (Eq. 6); LRN N = K // 8 + 1 (Liang & Hu).
    assert [n for n, _ in rcl.named_parameters()] == ['feedforward.weight', 'feedforward.bias',
                                                      'recurrent.weight']
    assert count(rcl) == 9 * 8 * 16 + 16 + 9 * 16 * 16 and rcl.lrn_size == 3
    u = torch.randn(2, 8, 9, 7)

    # Manual unroll with an independent copy of w_r per step: Eq. 5-8 written out.
    w_f = rcl.feedforward.weight.detach().clone().requires_grad_()
    b = rcl.feedforward.bias.detach().clone().requires_grad_()
    w_r = [rcl.recurrent.weight.detach().clone().requires_grad_() for _ in range(3)]

    def g_f(z):
        return lrn_eq8_loop(z.clamp(min=0), 3, 1e-3, 0.75)

    ff = F.conv2d(u, w_f, b, padding=1)
    x = g_f(ff)
    for t in range(3):
        x = g_f(ff + F.conv2d(x, w_r[t], padding=1))
    out = rcl(u)
    assert torch.allclose(out, x, atol=1e-5)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    (x * weights).sum().backward()
    summed = sum(w.grad for w in w_r)
    assert torch.allclose(rcl.recurrent.weight.grad, summed, atol=1e-4)
    assert not torch.allclose(rcl.recurrent.weight.grad, w_r[-1].grad, atol=1e-3)
    assert torch.allclose(rcl.feedforward.weight.grad, w_f.grad, atol=1e-4)
    assert torch.allclose(rcl.feedforward.bias.grad, b.grad, atol=1e-4)


# ----------------------------------------------------------------------------- self-attention
def sagan_loop(block, x):
    """SAGAN Eq. 1-4 position by position: o_j = sum_i beta_ji h(x_i), beta_ji = softmax over i
    of f(x_i) . g(x_j), y = gamma o + x."""
    fx, gx, hx = (conv(x).flatten(2)[0] for conv in (block.f, block.g, block.h))
    num = fx.shape[1]
    out = torch.empty_like(hx)
    for j in range(num):
        s = torch.stack([fx[:, i] @ gx[:, j] for i in range(num)])
        beta = s.exp() / s.exp().sum()
        out[:, j] = (hx * beta).sum(dim=1)
    return block.gamma * out.reshape(x.shape[1:]) + x[0]


def test_self_attention_is_sagan_eq1_to_4():
    torch.manual_seed(0)
    block = SelfAttention2d(16)
    assert block.qk_channels == 2 and block.gamma.item() == 0.0
    assert [n for n, _ in block.named_parameters()] == ['gamma', 'f.weight', 'g.weight',
                                                        'h.weight']
    with torch.no_grad():
        block.gamma.fill_(0.7)
        x = torch.randn(1, 16, 3, 5) * 0.5
        expected = sagan_loop(block, x)
        for impl in ('fused', 'explicit'):
            block.impl = impl
            assert torch.allclose(block(x)[0], expected, atol=1e-5), impl


@pytest.mark.parametrize('channels,size', [(32, (12, 10)), (20, (7, 9))])
def test_fused_attention_equals_the_explicit_formula_values_and_gradients(channels, size):
    torch.manual_seed(1)
    results = {}
    x0 = torch.randn(2, channels, *size)
    for impl in ('fused', 'explicit'):
        torch.manual_seed(2)
        block = SelfAttention2d(channels, impl=impl)
        with torch.no_grad():
            block.gamma.fill_(0.5)
        x = x0.clone().requires_grad_()
        y = block(x)
        (y * torch.linspace(-1, 1, y.numel()).reshape(y.shape)).sum().backward()
        grads = {n: p.grad for n, p in block.named_parameters()}
        results[impl] = (y.detach(), x.grad, grads)
    (y_f, gx_f, gp_f), (y_e, gx_e, gp_e) = results['fused'], results['explicit']
    assert (y_f - y_e).abs().max() < 1e-5
    assert (gx_f - gx_e).abs().max() < 1e-5
    for name in gp_e:
        scale = max(1.0, gp_e[name].abs().max().item())
        assert (gp_f[name] - gp_e[name]).abs().max() / scale < 1e-5, name


def test_fused_attention_runs_the_cpu_flash_kernel():
    """With only the flash backend allowed, the fused path must still run (forward and
    backward): the (N, N) matrix is never materialised by the math fallback."""
    q = torch.randn(1, 300, 4, requires_grad=True)
    k = torch.randn(1, 300, 4, requires_grad=True)
    v = torch.randn(1, 300, 32, requires_grad=True)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        out = attention_fused(q, k, v)
        out.sum().backward()
    assert torch.allclose(out, attention_explicit(q, k, v), atol=1e-5)
    with pytest.raises(RuntimeError), sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        # what an unpadded call (value wider than query/key) would need: no flash kernel
        F.scaled_dot_product_attention(q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1))


# ----------------------------------------------------------------------------- neck + head
def arn_parameter_count(widths=(64, 128, 256, 512, 512), reduction=8, num_convs=2):
    """The full VGG16-ARN parameter count from the layer list (configs/arn/README.md)."""
    def conv(cin, cout, k, bias=True):
        return k * k * cin * cout + (cout if bias else 0)

    vgg = 0
    in_channels = 3
    for item in TORCHVISION_CFGS[16]:
        if item != 'M':
            vgg += conv(in_channels, item, 3)
            in_channels = item
    sides = widths[1:4]  # conv2_2, conv3_3, conv4_3
    top = widths[4]  # conv5_3
    rcl = sum(conv(c, c, 3) + conv(c, c, 3, bias=False) for c in sides)

    def attention(c):
        return 2 * conv(c, c // reduction, 1, bias=False) + conv(c, c, 1, bias=False) + 1

    decoder = attention(top)
    deeper = [sides[1], sides[2], top]  # input of stage 2, 3, 4
    for side, deep in zip(sides, deeper):
        decoder += conv(deep, side, 4)  # transposed conv up, k4 s2 p1
        decoder += conv(2 * side, side, 3) + (num_convs - 1) * conv(side, side, 3)
        decoder += attention(side)
    head = sum(conv(c, 1, 1) for c in (top, ) + tuple(reversed(sides)))
    return vgg, rcl, decoder, head


def arn_model(widths=(64, 128, 256, 512, 512), impl='fused', with_bn=False):
    return MODELS.build(dict(
        type='SaliencyDetector',
        data_preprocessor=dict(type='SalDataPreProcessor', mean=[103.939, 116.779, 123.68],
                               std=[1.0, 1.0, 1.0], bgr_to_rgb=False),
        backbone=dict(type='VGG', depth=16, with_bn=with_bn, widths=widths,
                      out_indices=(1, 2, 3, 4)),
        neck=dict(type='ARNNeck', in_channels=widths[1:], attention=dict(impl=impl)),
        head=dict(type='ARNHead', in_channels=(widths[4], ) + tuple(reversed(widths[1:4]))),
        loss=dict(type='DeepSupervisionBCELoss')))


def test_arn_parameter_count_from_the_layer_list():
    with torch.device('meta'):
        model = arn_model()
    vgg, rcl, decoder, head = arn_parameter_count()
    assert count(model.backbone) == vgg
    assert count(model.neck.rcls) == rcl
    assert count(model.neck) == rcl + decoder
    assert count(model.head) == head
    total = vgg + rcl + decoder + head
    assert count(model) == total
    print(f'ARN-VGG16 parameters: {total:,} (VGG16 {vgg:,}, RCL {rcl:,}, decoder {decoder:,}, '
          f'head {head:,})')


def test_arn_at_224_shapes_and_identity_attention_at_init():
    torch.manual_seed(0)
    model = arn_model().eval()
    seen = []

    def check_identity(module, args, output):
        seen.append(tuple(output.shape))
        assert torch.equal(output, args[0])  # gamma = 0: y = 0 * o + x exactly

    for m in model.modules():
        if isinstance(m, SelfAttention2d):
            m.register_forward_hook(check_identity)
    captured = {}
    model.neck.register_forward_hook(lambda m, a, out: captured.update(neck=out))
    model.head.register_forward_hook(lambda m, a, out: captured.update(head=out))
    with torch.no_grad():
        outs = model._forward(torch.randn(1, 3, 224, 224))
    neck_outs, logits = captured['neck'], captured['head']
    # S_att5 ... S_att2 (paper §3.2: 14, 28, 56, 112 at a 224 input)
    assert [tuple(o.shape[1:]) for o in neck_outs] == [(512, 14, 14), (512, 28, 28),
                                                       (256, 56, 56), (128, 112, 112)]
    assert seen[:4] == [(1, 512, 14, 14), (1, 512, 28, 28), (1, 256, 56, 56),
                        (1, 128, 112, 112)]
    assert [tuple(x.shape[-2:]) for x in logits] == [(14, 14), (28, 28), (56, 56), (112, 112)]
    assert len(outs) == 4 and all(tuple(o.shape) == (1, 1, 224, 224) for o in outs)


def test_arn_non_square_odd_sizes_and_backward():
    torch.manual_seed(0)
    model = arn_model(widths=(4, 8, 16, 16, 16), with_bn=True)
    x = torch.randn(2, 3, 70, 102)  # pooled sizes 35x51, 17x25, 8x12, 4x6
    captured = {}
    model.neck.register_forward_hook(lambda m, a, out: captured.update(neck=out))
    outs = model._forward(x)
    assert [tuple(o.shape[-2:]) for o in captured['neck']] == [(4, 6), (8, 12), (17, 25),
                                                                (35, 51)]
    assert all(tuple(o.shape) == (2, 1, 70, 102) for o in outs)
    sum(o.mean() for o in outs).backward()
    # gamma gets a gradient although it starts at 0 (so attention can switch on)
    gammas = [m.gamma for m in model.modules() if isinstance(m, SelfAttention2d)]
    assert len(gammas) == 4 and all(g.grad is not None and g.grad.abs() > 0 for g in gammas)


def test_arn_he_init_zero_bias_and_errors():
    torch.manual_seed(0)
    neck = ARNNeck(in_channels=(64, 128, 256, 256))
    up = neck.stages[0].up  # ConvTranspose2d weight (in, out, k, k): torch's fan_in = out*k*k
    expected_std = (2.0 / (up.weight.shape[1] * 16)) ** 0.5
    assert abs(up.weight.std().item() / expected_std - 1) < 0.05
    conv = neck.stages[2].convs[0]
    assert abs(conv.weight.std().item() / (2.0 / (conv.in_channels * 9)) ** 0.5 - 1) < 0.05
    biases = [m.bias for m in neck.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
              and m.bias is not None]
    assert biases and all(torch.count_nonzero(b) == 0 for b in biases)
    with pytest.raises(ValueError, match='ARNNeck expects 4'):
        neck([torch.randn(1, 64, 8, 8)])
    with pytest.raises(ValueError, match='channels'):
        ARNNeck(in_channels=(64, 128, 256, 256), channels=(8, 8))
    with pytest.raises(ValueError, match='impl'):
        SelfAttention2d(8, impl='flash')
    with pytest.raises(ValueError, match='supervise'):
        ARNHead(in_channels=(8, 8), supervise=(0, ))
    head = ARNHead(in_channels=(8, 4), supervise=(1, ))
    assert len(head([torch.randn(1, 8, 2, 2), torch.randn(1, 4, 4, 4)])) == 1


# ----------------------------------------------------------------------------- configs
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def config_model(name, **overrides):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    init_default_scope('salbox')
    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None  # no weight files in tests
    model_cfg.update(overrides)
    return cfg, model_cfg


def test_arn_paper_config_is_the_counted_model():
    cfg, model_cfg = config_model('arn/arn_vgg16_msra10k-dutomron.py')
    with torch.device('meta'):
        model = MODELS.build(model_cfg)
    assert count(model) == sum(arn_parameter_count())
    assert cfg.model.data_preprocessor.mean == [103.939, 116.779, 123.68]
    assert cfg.optim_wrapper.optimizer.type == 'Adam' and cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.default_hooks.checkpoint.save_best == 'maxF'
    assert cfg.train_cfg.val_interval and cfg.val_cfg.type == 'ValLoop'
    tests = [d.type for d in cfg.test_dataloader.dataset.datasets]
    assert tests == ['DUTOMRONDataset', 'PASCALSDataset', 'HKUISDataset', 'ECSSDDataset']
    assert all(p.get('keep_ori_img') for p in cfg.test_dataloader.dataset.datasets[0].pipeline
               if p.type == 'PackSalInputs')


def test_arn_efficientnet_lite0_config_on_odd_sizes():
    _, model_cfg = config_model('arn/arn_efficientnet-lite0_synthetic.py')
    model = MODELS.build(model_cfg).eval()
    captured = {}
    model.neck.register_forward_hook(lambda m, a, out: captured.update(neck=out))
    with torch.no_grad():
        outs = model._forward(torch.randn(1, 3, 75, 101))  # TF-same strides: 38x51 ... 3x4
    assert [tuple(o.shape[-2:]) for o in captured['neck']] == [(3, 4), (5, 7), (10, 13),
                                                                (19, 26), (38, 51)]
    assert len(outs) == 5 and all(tuple(o.shape) == (1, 1, 75, 101) for o in outs)


def test_r3net_v_config_integrates_at_a_quarter_of_the_input():
    cfg, model_cfg = config_model('r3net/r3net_vgg16_msra10k.py', postprocessors=[])
    model = MODELS.build(model_cfg).eval()
    assert model.backbone.out_channels == (64, 128, 256, 512, 512)
    captured = {}
    model.neck.register_forward_hook(lambda m, a, out: captured.update(neck=out))
    with torch.no_grad():
        outs = model._forward(torch.randn(1, 3, 64, 96))
    low, high = captured['neck']
    assert tuple(low.shape) == tuple(high.shape) == (1, 256, 16, 24)
    assert len(outs) == 7 and tuple(outs[-1].shape) == (1, 1, 64, 96)
    assert cfg.default_hooks.checkpoint.save_best == 'maxF'
