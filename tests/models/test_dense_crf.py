"""DenseCRF equals R3Net's crf_refine (misc.py) written out here directly on pydensecrf."""
import numpy as np
import pydensecrf.densecrf as dcrf  # the reference: a missing one fails, never skips
import pytest
import torch

from salbox.models.postprocessors import DenseCRF


def r3net_crf_refine(img: np.ndarray, annos: np.ndarray) -> np.ndarray:
    """R3Net's official misc.py::crf_refine: uint8 image and map in, uint8 map out."""
    def _sigmoid(x):
        return 1 / (1 + np.exp(-x))

    assert img.dtype == np.uint8 and annos.dtype == np.uint8
    EPSILON, M, tau = 1e-8, 2, 1.05
    d = dcrf.DenseCRF2D(img.shape[1], img.shape[0], M)
    anno_norm = annos / 255.
    n_energy = -np.log((1.0 - anno_norm + EPSILON)) / (tau * _sigmoid(1 - anno_norm))
    p_energy = -np.log(anno_norm + EPSILON) / (tau * _sigmoid(anno_norm))
    U = np.zeros((M, img.shape[0] * img.shape[1]), dtype='float32')
    U[0, :] = n_energy.flatten()
    U[1, :] = p_energy.flatten()
    d.setUnaryEnergy(U)
    d.addPairwiseGaussian(sxy=3, compat=3)
    d.addPairwiseBilateral(sxy=60, srgb=5, rgbim=img, compat=5)
    infer = np.array(d.inference(1)).astype('float32')
    res = infer[1, :] * 255
    return res.reshape(img.shape[:2]).astype('uint8')


def _scene(seed: int, height=48, width=64):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    img[12:36, 16:48] += 150  # a bright object
    sal = np.clip(rng.normal(0.2, 0.15, (height, width)), 0, 1)
    sal[14:34, 18:46] = np.clip(rng.normal(0.75, 0.15, (20, 28)), 0, 1)
    return img, sal.astype(np.float32)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_dense_crf_matches_official_crf_refine(seed):
    img, sal = _scene(seed)
    sal_u8 = (sal * 255).astype(np.uint8)
    expected = r3net_crf_refine(np.ascontiguousarray(img), sal_u8).astype(np.float32) / 255
    crf = DenseCRF()
    out = crf(torch.from_numpy(img).permute(2, 0, 1).contiguous(),
              torch.from_numpy(sal_u8.astype(np.float32) / 255)[None])
    assert out.shape == (1, 48, 64)
    np.testing.assert_array_equal(out[0].numpy(), expected)


def test_dense_crf_changes_the_map_towards_the_image():
    img, sal = _scene(3)
    out = DenseCRF(quantize=False)(torch.from_numpy(img).permute(2, 0, 1).contiguous(),
                                   torch.from_numpy(sal)[None])[0].numpy()
    assert not np.allclose(out, sal)
    inside, outside = out[14:34, 18:46].mean(), out[:, :10].mean()
    assert inside > 0.5 > outside
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_dense_crf_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match='differ in size'):
        DenseCRF()(torch.zeros(3, 10, 10, dtype=torch.uint8), torch.zeros(1, 10, 12))


def test_the_two_uint8_rules_differ_exactly_where_expected():
    """Round and truncate (R3Net's ``to_pil``: ``mul(255).byte()`` in float32) agree below
    half a level and differ by one level from half a level up."""
    from salbox.evaluation.functional import to_uint8
    levels = np.arange(255, dtype=np.float64)
    fractions = np.array([0.0, 0.25, 0.49, 0.51, 0.75, 0.99])
    crafted = ((levels[:, None] + fractions[None]) / 255).astype(np.float32)
    rounded, truncated = to_uint8(crafted), to_uint8(crafted, 'truncate')
    official = torch.from_numpy(crafted).mul(255).byte().numpy()  # torchvision ToPILImage
    np.testing.assert_array_equal(truncated, official)
    differ = rounded != truncated
    np.testing.assert_array_equal(differ, np.broadcast_to(fractions >= 0.5, crafted.shape))
    np.testing.assert_array_equal(rounded[differ].astype(int) - truncated[differ], 1)
    with pytest.raises(ValueError, match="uint8 rule must be one of .*'floor'"):
        to_uint8(crafted, 'floor')


def test_r3net_config_densecrf_receives_the_truncated_map(monkeypatch):
    """DenseCRF built from an R3Net config states uint8_rule='truncate' and feeds the CRF the
    official to_pil map; with 'round' it would see a different one."""
    import os.path as osp
    from mmengine.config import Config
    from salbox.models.postprocessors import dense_crf
    from salbox.registry import MODELS
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for name in ('r3net/r3net_resnext101_msra10k.py', 'r3net/r3net_vgg16_msra10k.py',
                 'r3net/r3net_efficientnet-lite0_pascal-s_crf.py'):
        cfg = Config.fromfile(osp.join(repo, 'configs', name))
        assert cfg.model.postprocessors == [dict(type='DenseCRF', uint8_rule='truncate')], name
    crf = MODELS.build(cfg.model.postprocessors[0])
    received = []
    real_unary = dense_crf.saliency_unary
    monkeypatch.setattr(dense_crf, 'saliency_unary',
                        lambda sal, *args: received.append(sal) or real_unary(sal, *args))
    img, sal = _scene(3)
    sal[:8] = (np.arange(64, dtype=np.float32) % 50 + 0.7) / 255  # fractional part 0.7
    crf(torch.from_numpy(img).permute(2, 0, 1).contiguous(), torch.from_numpy(sal)[None])
    official = torch.from_numpy(sal).mul(255).byte().numpy() / 255.0
    np.testing.assert_array_equal(received[0], official)
    assert not np.array_equal(received[0], np.rint(sal.astype(np.float64) * 255) / 255)
