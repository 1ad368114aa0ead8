import pytest
import torch
import torch.nn.functional as F

from salbox.models.losses import DeepSupervisionBCELoss


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
