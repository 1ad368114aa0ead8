"""DenseCRF on photos of any size with bounded memory: overlapping tiles.

pydensecrf's permutohedral lattice takes about 450 bytes per pixel (a 39 MP photo would need
some 17 GB, benchmarks/bench_infer_memory.py). A mean-field step moves information only as far
as its kernels reach: the bilateral kernel is a Gaussian of ``bilateral_sxy`` pixels (R3Net:
60), negligible beyond 3 of them. :func:`dense_crf_tiled` therefore runs the CRF on tiles of at
most ``tile`` x ``tile`` pixels, each with a margin of ``margin_sigmas * max(sxy)`` pixels of
context on every side, and keeps each tile's centre. Photos up to ``tile_pixels`` run whole, as
before. The difference to the whole-image CRF, measured on a 1.5 MP photo with 512-pixel tiles
(the tests' check): at most a few grey levels on a handful of pixels
(tests/hostile/test_memory.py).
"""
import numpy as np

TILE = 1024
TILE_PIXELS = 2_000_000
MARGIN_SIGMAS = 3.0


def dense_crf_tiled(image_rgb: np.ndarray, sal_map: np.ndarray, tile: int = TILE,
                    tile_pixels: int = TILE_PIXELS, margin_sigmas: float = MARGIN_SIGMAS,
                    **crf_kwargs) -> np.ndarray:
    """``dense_crf_numpy`` on (H, W) maps of any size: whole up to ``tile_pixels``, otherwise
    on ``tile``-pixel tiles with ``margin_sigmas`` kernel widths of context each side."""
    from .dense_crf import dense_crf_numpy
    height, width = sal_map.shape
    if height * width <= tile_pixels:
        return dense_crf_numpy(image_rgb, sal_map, **crf_kwargs)
    sxy = max(crf_kwargs.get('bilateral_sxy', 60), crf_kwargs.get('gaussian_sxy', 3))
    margin = int(np.ceil(margin_sigmas * sxy))
    out = np.empty((height, width), np.float32)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(height, top + tile), min(width, left + tile)
            y0, x0 = max(0, top - margin), max(0, left - margin)
            y1, x1 = min(height, bottom + margin), min(width, right + margin)
            refined = dense_crf_numpy(np.ascontiguousarray(image_rgb[y0:y1, x0:x1]),
                                      np.ascontiguousarray(sal_map[y0:y1, x0:x1]), **crf_kwargs)
            out[top:bottom, left:right] = refined[top - y0:bottom - y0, left - x0:right - x0]
    return out
