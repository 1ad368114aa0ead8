"""salbox.apis.matting: the trimap's three regions, closed-form matting against a known soft
edge, and the colour composite of ``--bgcolor``."""
import numpy as np
import pytest

from salbox.apis.matting import compose, make_trimap, matte, parse_color


def test_trimap_has_foreground_background_and_unknown_where_expected():
    sal = np.zeros((60, 80), np.float32)
    sal[15:45, 20:60] = 1.0          # a solid subject
    sal[15:45, 18:20] = 0.5          # a soft left edge
    trimap = make_trimap(sal, fg_threshold=240, bg_threshold=10, erode_size=5)
    assert set(np.unique(trimap)) == {0.0, 0.5, 1.0}
    assert trimap[30, 40] == 1.0                       # deep inside: foreground
    assert trimap[2, 2] == 0.0 and trimap[55, 75] == 0.0  # far outside: background
    assert trimap[30, 19] == 0.5                       # the soft edge: unknown
    assert trimap[15, 40] == 0.5 and trimap[14, 40] == 0.5  # both sides of the hard edge
    assert trimap[16, 40] == 0.5 and trimap[18, 40] == 1.0  # a 5x5 erosion: 2 px band
    assert trimap[15, 16] == 0.5 and trimap[15, 15] == 0.0  # background eroded by 2 px too
    # erosion widens the unknown band on both sides
    narrow = make_trimap(sal, erode_size=0)
    assert (narrow == 0.5).sum() < (trimap == 0.5).sum()
    # an 8-bit map gives the same trimap as its float map
    assert np.array_equal(make_trimap((sal * 255).astype(np.uint8), erode_size=5), trimap)


def _soft_edge_scene(height=64, width=96, seed=0):
    """A textured foreground over a different textured background, mixed by a known alpha that
    ramps over 12 columns (a soft, hair-like edge)."""
    rng = np.random.default_rng(seed)
    alpha = np.clip((np.arange(width) - 42) / 12.0, 0, 1)[None, :].repeat(height, 0)
    fg = np.array([220, 60, 40], np.float64) + rng.normal(0, 6, (height, width, 3))
    bg = np.array([30, 90, 200], np.float64) + rng.normal(0, 6, (height, width, 3))
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return np.clip(image, 0, 255).astype(np.uint8), alpha.astype(np.float32)


def test_matting_recovers_a_known_soft_edge_better_than_the_raw_map():
    pytest.importorskip('pymatting')
    image, alpha = _soft_edge_scene()
    # a saliency map with the right region but a blurry, shifted edge (as a 320x320 network
    # map resized up looks)
    raw = np.clip((np.arange(96) - 36) / 24.0, 0, 1)[None, :].repeat(64, 0).astype(np.float32)
    matted, foreground = matte(image, raw, erode_size=4, max_pixels=None)
    band = (alpha > 0) & (alpha < 1)
    raw_error = np.abs(raw - alpha)[band].mean()
    matted_error = np.abs(matted - alpha)[band].mean()
    assert matted_error < 0.5 * raw_error, (raw_error, matted_error)
    assert foreground.shape == image.shape and foreground.dtype == np.uint8
    # resized solve (bounded cost): still far better than the raw map, exact outside the band
    small, _ = matte(image, raw, erode_size=4, max_pixels=1500, foreground=False)
    assert np.abs(small - alpha)[band].mean() < 0.7 * raw_error
    trimap = make_trimap(raw, erode_size=4)
    assert np.array_equal(small[trimap != 0.5], trimap[trimap != 0.5])


def test_matting_without_a_background_keeps_the_map():
    image, _ = _soft_edge_scene()
    sal = np.full((64, 96), 0.6, np.float32)  # no pixel is background or foreground
    alpha, fg = matte(image, sal)
    assert np.array_equal(alpha, sal) and fg is image


def test_compose_alpha_and_background_colour():
    image = np.zeros((2, 2, 3), np.uint8)
    image[...] = (200, 100, 0)  # RGB
    alpha = np.array([[1.0, 0.0], [0.5, 0.0]], np.float32)
    rgba = compose(image, alpha)
    assert rgba[0, 0].tolist() == [0, 100, 200, 255]  # BGRA
    assert rgba[0, 1, 3] == 0 and rgba[1, 0, 3] == 128
    on_white = compose(image, alpha, parse_color('255,255,255'))
    assert on_white[0, 1].tolist() == [255, 255, 255, 255]
    assert on_white[1, 0].tolist() == [128, 178, 228, 255]
    assert parse_color('1,2,3,4') == (1, 2, 3, 4)
    with pytest.raises(ValueError):
        parse_color('1,2')
    with pytest.raises(ValueError):
        parse_color('0,0,300')


def test_matting_leaves_torch_threads_alone(one_thread):
    """pymatting's numba kernels reset torch's thread count to the number of cores (every
    later forward then oversubscribed a shared machine): matte() restores it."""
    pytest.importorskip('pymatting')
    import torch
    image, _ = _soft_edge_scene()
    raw = np.clip((np.arange(96) - 36) / 24.0, 0, 1)[None, :].repeat(64, 0).astype(np.float32)
    matte(image, raw, erode_size=4)
    assert torch.get_num_threads() == 1
