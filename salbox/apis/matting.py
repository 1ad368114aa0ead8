"""Cut-outs with matted edges: a trimap from the saliency map, then closed-form matting.

The recipe is rembg's ``alpha_matting_cutout`` (danielgatis/rembg, ``rembg/bg.py``): pixels
whose map is above ``fg_threshold`` (0-255) are foreground after an erosion of
``erode_size``; pixels below ``bg_threshold`` are background after the same erosion of the
background (the complement of "not background" dilated); the band in between is unknown and its
alpha is solved with the closed-form matting of Levin, Lischinski and Weiss (*A Closed-Form
Solution to Natural Image Matting*, TPAMI 2008) as pymatting implements it
(``pymatting.estimate_alpha_cf``). Foreground colours in the band are re-estimated
(``pymatting.estimate_foreground_ml``) so the background does not bleed into hair and fur.

Bounded cost: closed-form matting builds a sparse Laplacian with 25 entries per pixel, so an
image above ``max_pixels`` (default 0.25 MP) is matted at a reduced size and the alpha and
foreground are resized back; pixels the trimap fixes keep their exact 0 / 1 and the photo's own
colours at full size. Memory and time are then flat in the photo's size (about 1-3 s per photo
on one CPU core at 0.25 MP).
"""
import contextlib
import sys
from typing import Optional, Tuple

import cv2
import numpy as np

from salbox.utils.errors import SalboxError

FG_THRESHOLD = 240
BG_THRESHOLD = 10
ERODE_SIZE = 10
MAX_PIXELS = 250_000


@contextlib.contextmanager
def keep_torch_threads():
    """Restore torch's intra-op thread count after the block. Importing pymatting (numba's
    OpenMP layer) and running its parallel kernels reset it to the number of cores: on a
    shared 2-core machine with ``OMP_NUM_THREADS=1`` that made every later U²-Netp forward
    7x slower (0.8 -> 5.4 s)."""
    torch = sys.modules.get('torch')
    threads = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _pymatting():
    try:
        with keep_torch_threads():
            import pymatting
    except ImportError:
        raise SalboxError('--alpha-matting needs pymatting: pip install pymatting '
                          '(or pip install -e .[matting])') from None
    return pymatting


def make_trimap(sal_map: np.ndarray, fg_threshold: int = FG_THRESHOLD,
                bg_threshold: int = BG_THRESHOLD, erode_size: int = ERODE_SIZE) -> np.ndarray:
    """Trimap (float32, H x W) of 1 (foreground), 0 (background) and 0.5 (unknown).

    ``sal_map`` is a float map in [0, 1] or an 8-bit map; thresholds are in 0-255 units."""
    sal = np.asarray(sal_map)
    if sal.dtype != np.uint8:
        sal = np.clip(np.rint(sal.astype(np.float32) * 255), 0, 255).astype(np.uint8)
    foreground = (sal > fg_threshold).astype(np.uint8)
    not_background = (sal >= bg_threshold).astype(np.uint8)
    if erode_size > 0:
        kernel = np.ones((erode_size, erode_size), np.uint8)
        foreground = cv2.erode(foreground, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        not_background = cv2.dilate(not_background, kernel, borderType=cv2.BORDER_CONSTANT,
                                    borderValue=0)
    trimap = np.full(sal.shape, 0.5, np.float32)
    trimap[not_background == 0] = 0.0
    trimap[foreground == 1] = 1.0
    return trimap


def matte(image_rgb: np.ndarray, sal_map: np.ndarray, fg_threshold: int = FG_THRESHOLD,
          bg_threshold: int = BG_THRESHOLD, erode_size: int = ERODE_SIZE,
          max_pixels: Optional[int] = MAX_PIXELS, foreground: bool = True
          ) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """``(alpha, foreground)`` for a uint8 RGB photo and its saliency map: alpha float32
    (H, W) in [0, 1], foreground uint8 RGB (H, W, 3) (``None`` with ``foreground=False``).

    When the trimap has no foreground or no background (nothing to anchor the solve) the map
    itself is the alpha. Above ``max_pixels`` the solve runs on a resized copy (see the module
    docstring); ``erode_size`` is in full-size pixels."""
    height, width = image_rgb.shape[:2]
    trimap = make_trimap(sal_map, fg_threshold, bg_threshold, erode_size)
    sal = np.asarray(sal_map, np.float32) / (255.0 if np.asarray(sal_map).dtype == np.uint8
                                              else 1.0)
    unknown = trimap == 0.5
    if not unknown.any() or not (trimap == 1).any() or not (trimap == 0).any():
        return (trimap if not unknown.any() else sal), (image_rgb if foreground else None)
    pm = _pymatting()
    scale = 1.0
    if max_pixels and height * width > max_pixels:
        scale = (max_pixels / float(height * width)) ** 0.5
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image_rgb, size, interpolation=cv2.INTER_AREA)
        small_trimap = cv2.resize(trimap, size, interpolation=cv2.INTER_NEAREST)
    else:
        small, small_trimap = image_rgb, trimap
    image01 = small.astype(np.float64) / 255.0
    if not (small_trimap == 1).any() or not (small_trimap == 0).any():
        return sal, (image_rgb if foreground else None)
    with keep_torch_threads():
        alpha = pm.estimate_alpha_cf(image01, small_trimap.astype(np.float64))
        alpha = np.clip(alpha, 0, 1).astype(np.float32)
        fg = None
        if foreground:
            fg = pm.estimate_foreground_ml(image01, alpha)
            fg = np.clip(fg * 255 + 0.5, 0, 255).astype(np.uint8)
    if scale < 1.0:
        alpha = cv2.resize(alpha, (width, height), interpolation=cv2.INTER_LINEAR)
        if fg is not None:
            fg = cv2.resize(fg, (width, height), interpolation=cv2.INTER_LINEAR)
    alpha = np.where(unknown, alpha, trimap).astype(np.float32)
    if fg is not None:
        fg = np.where(unknown[..., None], fg, image_rgb)
    return alpha, fg


def parse_color(text: str) -> Tuple[int, int, int, int]:
    """``'R,G,B'`` or ``'R,G,B,A'`` (0-255 each) -> (R, G, B, A)."""
    try:
        values = [int(v) for v in text.split(',')]
    except ValueError:
        values = []
    if len(values) not in (3, 4) or not all(0 <= v <= 255 for v in values):
        raise ValueError(f'{text!r} is not R,G,B or R,G,B,A with values in 0-255')
    return tuple(values + [255] * (4 - len(values)))


def compose(image_rgb: np.ndarray, alpha: np.ndarray,
            bgcolor: Optional[Tuple[int, int, int, int]] = None) -> np.ndarray:
    """BGRA cut-out (uint8): the photo with ``alpha`` (float [0, 1]) as its alpha channel, or,
    (the one cut-out routine of salbox: ``salbox infer``, ``tools/infer.py``, ``salbox serve``)
    with ``bgcolor`` (R, G, B, A), the photo composited over that colour (alpha ``a + (1 - a)
    * A / 255``), as rembg's ``--bgcolor`` does."""
    a = np.clip(alpha, 0, 1).astype(np.float32)[..., None]
    out = np.empty(image_rgb.shape[:2] + (4, ), np.uint8)
    if bgcolor is None:  # alpha = the map as salbox saves it (to_uint8), byte for byte
        from salbox.evaluation.functional import to_uint8
        out[..., :3] = image_rgb[..., ::-1]
        out[..., 3] = to_uint8(alpha)
        return out
    r, g, b, bg_alpha = bgcolor
    colour = np.array([b, g, r], np.float32)
    out_alpha = a + (1 - a) * (bg_alpha / 255.0)
    # premultiplied composite, divided back by the output alpha
    rgb = image_rgb[..., ::-1].astype(np.float32) * a + colour * (1 - a) * (bg_alpha / 255.0)
    rgb = rgb / np.maximum(out_alpha, 1e-6)
    out[..., :3] = np.clip(np.rint(rgb), 0, 255)
    out[..., 3] = np.clip(np.rint(out_alpha[..., 0] * 255), 0, 255)
    return out
