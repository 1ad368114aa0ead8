import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import uniform_filter

from salbox.models.losses import (BCELoss, DeepSupervisionBCELoss, DeepSupervisionLoss,
                                  EdgeWeightedLoss, IoULoss, WeightedBCELoss, WeightedIoULoss)
from salbox.registry import MODELS


def test_sums_unit_weight_bce_over_outputs_like_r3net():
    torch.manual_seed(0)
    target = torch.rand(2, 1, 8, 8)
    logits = [torch.randn(2, 1, 8, 8) for _ in range(7)]
    losses = DeepSupervisionBCELoss()(logits, target)
    assert sorted(losses) == [f'loss_sal_{i}' for i in range(7)]
    expected = sum(F.binary_cross_entropy_with_logits(x, target) for x in logits)
    assert torch.allclose(sum(losses.values()), expected)


def test_weights_and_valid_mask():
    target = torch.ones(1, 1, 4, 4)
    logits = [torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), 10.0)]
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1
    logits[1][..., 2:, :] = -10.0  # wrong only in the masked-out half
    losses = DeepSupervisionBCELoss(weights=[0.5, 2.0])(logits, target, mask)
    assert losses['loss_sal_0'].item() == pytest.approx(0.5 * torch.log(torch.tensor(2.0)).item())
    assert losses['loss_sal_1'].item() < 1e-3


def test_weight_count_must_match():
    with pytest.raises(ValueError, match='2 weights given for 3 outputs'):
        DeepSupervisionBCELoss(weights=[1, 1])([torch.zeros(1, 1, 2, 2)] * 3,
                                               torch.zeros(1, 1, 2, 2))


def _batch(seed=0, size=(2, 1, 24, 20)):
    generator = torch.Generator().manual_seed(seed)
    target = (torch.rand(size, generator=generator) > 0.6).float()
    target[:, :, 6:14, 5:12] = 1  # a blob, so that edges exist
    logits = [torch.randn(size, generator=generator) * 2 for _ in range(3)]
    return logits, target


def test_bce_list_is_bit_identical_to_the_r3net_loss():
    """DeepSupervisionLoss([BCELoss]) is R3Net's loss to the last bit, with and without padding,
    and the old name builds the same thing from a config."""
    logits, target = _batch()
    mask = torch.ones_like(target)
    mask[..., -5:] = 0
    listed = MODELS.build(dict(type='DeepSupervisionLoss', losses=[dict(type='BCELoss')],
                               weights=[1, 0.5, 2]))
    named = MODELS.build(dict(type='DeepSupervisionBCELoss', weights=[1, 0.5, 2]))
    for valid in (None, mask):
        ours, theirs = listed(logits, target, valid), named(logits, target, valid)
        assert list(ours) == list(theirs) == ['loss_sal_0', 'loss_sal_1', 'loss_sal_2']
        for key in ours:
            assert torch.equal(ours[key], theirs[key])
    plain = [F.binary_cross_entropy_with_logits(x, target) * w
             for x, w in zip(logits, (1, 0.5, 2))]
    assert all(torch.equal(listed(logits, target)[f'loss_sal_{i}'], plain[i]) for i in range(3))


def test_every_output_sums_every_pixel_loss():
    logits, target = _batch(1)
    loss = DeepSupervisionLoss(losses=[dict(type='BCELoss'), dict(type='IoULoss', loss_weight=2)],
                               loss_name='loss_x')
    out = loss(logits, target)
    for i, logit in enumerate(logits):
        expected = BCELoss()(logit, target) + 2 * IoULoss()(logit, target)
        torch.testing.assert_close(out[f'loss_x_{i}'], expected, rtol=0, atol=0)


def test_iou_loss_follows_its_formula():
    target = torch.zeros(2, 1, 4, 4)
    target[0, :, :2] = 1
    target[1, :, :, :1] = 1
    logit = torch.tensor([[4.0, -1.0, 0.5, 2.0]]).repeat(4, 1).view(1, 1, 4, 4).repeat(2, 1, 1, 1)
    prob = torch.sigmoid(logit)
    per_image = [1 - (p * g).sum() / (p + g - p * g).sum() for p, g in zip(prob, target)]
    torch.testing.assert_close(IoULoss()(logit, target), torch.stack(per_image).mean())
    assert IoULoss()(torch.full((1, 1, 4, 4), 30.0), torch.ones(1, 1, 4, 4)) < 1e-6
    assert IoULoss()(torch.full((1, 1, 4, 4), -30.0), torch.ones(1, 1, 4, 4)) > 1 - 1e-6


def f3net_weights(target):
    """1 + 5 |mean over a 31 x 31 zero-padded window - g|, with scipy as the oracle."""
    g = target.double().numpy()
    pooled = uniform_filter(g, size=(1, 1, 31, 31), mode='constant', cval=0.0)
    return torch.from_numpy(1 + 5 * np.abs(pooled - g))


def test_weighted_losses_follow_f3net():
    logits, target = _batch(2)
    logit = logits[0].double()
    weight = f3net_weights(target)
    target = target.double()
    assert weight.max() > 2 and weight.min() >= 1  # edges weigh more
    bce = F.binary_cross_entropy_with_logits(logit, target, reduction='none')
    expected_bce = ((weight * bce).sum(dim=(1, 2, 3)) / weight.sum(dim=(1, 2, 3))).mean()
    prob = torch.sigmoid(logit)
    inter = (weight * prob * target).sum(dim=(1, 2, 3))
    union = (weight * (prob + target - prob * target)).sum(dim=(1, 2, 3))
    expected_iou = (1 - (inter + 1) / (union + 1)).mean()
    torch.testing.assert_close(WeightedBCELoss()(logit, target), expected_bce)
    torch.testing.assert_close(WeightedIoULoss()(logit, target), expected_iou)


@pytest.mark.parametrize('loss', [BCELoss(), IoULoss(), WeightedBCELoss(), WeightedIoULoss()],
                         ids=lambda loss: type(loss).__name__)
def test_padding_changes_nothing(loss):
    """Padded pixels (valid_mask 0) may hold anything: the loss of the padded batch equals the
    loss of the same pixels with other padding values, and it differs without the mask."""
    logits, target = _batch(3, size=(2, 1, 24, 24))
    logit = logits[0]
    mask = torch.ones_like(target)
    mask[..., 18:, :] = 0
    other_logit, other_target = logit.clone(), target.clone()
    other_logit[..., 18:, :] = 50.0
    other_target[..., 18:, :] = 0.0
    if isinstance(loss, EdgeWeightedLoss):  # the edge weights read the mask near the border
        other_target[..., 18:, :] = target[..., 18:, :]
    with_mask = loss(logit, target, mask)
    torch.testing.assert_close(loss(other_logit, other_target, mask), with_mask)
    assert not torch.allclose(loss(other_logit, other_target), with_mask)


def test_empty_loss_list_is_refused():
    with pytest.raises(ValueError, match='losses is empty'):
        DeepSupervisionLoss(losses=[])


def test_edge_weights_equal_the_square_average_pool():
    import torch.nn.functional as F

    from salbox.models.losses.pixel_losses import edge_weights
    torch.manual_seed(0)
    target = (torch.rand(2, 1, 37, 45) > 0.5).float()
    square = 1 + 5 * (F.avg_pool2d(target, 31, stride=1, padding=15) - target).abs()
    assert torch.allclose(edge_weights(target), square, atol=1e-5)


def test_edge_weights_are_reused_across_outputs_and_recomputed_for_a_new_or_changed_mask():
    from salbox.models.losses.pixel_losses import WeightedBCELoss
    loss = WeightedBCELoss()
    target = (torch.rand(2, 1, 16, 16) > 0.5).float()
    first = loss.weights(target, None)
    assert loss.weights(target, None) is first               # the next output, same mask
    assert loss.weights(target.clone(), None) is not first   # a new batch
    target_again = loss._cached_weights[0]
    target_again[:, :, :8] = 1 - target_again[:, :, :8]     # changed in place
    changed = loss.weights(target_again, None)
    assert changed is not first
    valid = torch.ones_like(target_again)
    assert loss.weights(target_again, valid) is not changed  # another valid mask
