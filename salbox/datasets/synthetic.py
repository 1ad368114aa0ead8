"""A deterministic synthetic SOD data set: cluttered, textured backgrounds with one to three
salient objects, written in a benchmark layout and loaded by ``SyntheticSalDataset``.

Design (chosen): backgrounds are muted (low saturation) gradients with smooth noise, fine
noise and clutter (lines, rectangles, circles) in colours close to the background; objects
(ellipses, polygons, stars, blobs) are larger, saturated, of a hue far from the background's and
textured (stripes, spots, shading). So saliency is a colour/contrast cue a small CNN learns
from scratch in minutes, while clutter shapes keep "any edge" from being enough. Object shapes
are drawn 4x supersampled with anti-aliasing and area-downsampled (plus a slight blur), so
mask boundaries hold soft values in (0, 1), like MSRA10K's.

Every image is rendered from its own generator seeded by ``(seed, index)``: the same seed
always gives the same data, whatever ``num_images`` is.
"""
import colorsys
import functools
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
from typing import Dict, Iterable, Optional, Sequence, Tuple

import cv2
import numpy as np

from salbox.registry import DATASETS
from salbox.utils.errors import DataError
from .sal_dataset import SalientObjectDataset

GENERATOR_VERSION = 1
SUPERSAMPLE = 4
LAYOUTS: Dict[str, Tuple[str, str]] = dict(
    separate=('images', 'masks'),  # the SOD community's images/ + masks/ layout
    msra10k=('Imgs', 'Imgs'),  # MSRA10K's side-by-side layout (MSRA10KDataset's default)
)
META_FILE = 'meta.json'


# --------------------------------------------------------------------------------- rendering
def _bgr(hue: float, sat: float, val: float) -> np.ndarray:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, min(max(sat, 0.0), 1.0), min(max(val, 0.0), 1.0))
    return np.array([b, g, r], dtype=np.float32) * 255.0


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int,
                  channels: int) -> np.ndarray:
    """Low-frequency noise, about unit variance, (H, W, C)."""
    small = rng.standard_normal((cells, cells, channels)).astype(np.float32)
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return big.reshape(height, width, channels)


def _fine_noise(rng: np.random.Generator, shape: Tuple[int, ...], sigma: float) -> np.ndarray:
    noise = rng.standard_normal(shape, dtype=np.float32)
    noise *= sigma
    return noise


@functools.lru_cache(maxsize=8)
def _coords(height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Normalised (y, x) grids in [0, 1], cached (read-only)."""
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None].repeat(width, 1)
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :].repeat(height, 0)
    ys.flags.writeable = xs.flags.writeable = False
    return ys, xs


def _background(rng: np.random.Generator, height: int, width: int
                ) -> Tuple[np.ndarray, float]:
    """Muted gradient + smooth and fine noise + clutter of similar colours; returns (img, hue)."""
    hue, sat, val = rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.3, 0.8)
    c0 = _bgr(hue, sat, val)
    c1 = _bgr(hue + rng.uniform(-0.08, 0.08), sat * rng.uniform(0.5, 1.2),
              val * rng.uniform(0.6, 1.3))
    ys, xs = _coords(height, width)
    angle = rng.uniform(0, 2 * np.pi)
    t = np.cos(angle) * xs + np.sin(angle) * ys
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    img = c0 + (c1 - c0) * t[:, :, None]
    img += _smooth_noise(rng, height, width, int(rng.integers(3, 9)), 3) * rng.uniform(6, 16)
    mean = img.reshape(-1, 3).mean(0)
    scale = min(height, width)
    for _ in range(int(rng.integers(4, 12))):
        colour = tuple(float(c) for c in np.clip(mean + rng.normal(0, 22, 3), 0, 255))
        kind = rng.integers(4)
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if kind == 0:
            p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(img, p1, p2, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
        elif kind == 1:
            p2 = (p1[0] + int(rng.integers(-scale // 4, scale // 4)),
                  p1[1] + int(rng.integers(-scale // 4, scale // 4)))
            cv2.rectangle(img, p1, p2, colour, int(rng.choice([-1, 1, 2])), cv2.LINE_AA)
        elif kind == 2:
            radius = int(rng.integers(2, max(3, scale // 10)))
            cv2.circle(img, p1, radius, colour, int(rng.choice([-1, 1, 2])), cv2.LINE_AA)
        else:
            axes = (int(rng.integers(2, max(3, scale // 8))),
                    int(rng.integers(1, max(2, scale // 16))))
            cv2.ellipse(img, p1, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1,
                        cv2.LINE_AA)
    img += _fine_noise(rng, (height, width, 1), rng.uniform(2, 6))  # luminance grain
    return img, hue


def _outline(rng: np.random.Generator, radius: float) -> np.ndarray:
    """Vertices (N, 2) of a random shape centred at 0 with size about ``radius``."""
    kind = rng.integers(4)
    rotation = rng.uniform(0, 2 * np.pi)
    if kind == 0:  # ellipse
        theta = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        radii = np.stack([radius * np.cos(theta), radius * rng.uniform(0.45, 1.0) * np.sin(theta)],
                         axis=1)
        cos, sin = np.cos(rotation), np.sin(rotation)
        rot = np.array([[cos, -sin], [sin, cos]])
        return radii @ rot.T
    if kind == 1:  # polygon with 3-8 jittered vertices
        count = int(rng.integers(3, 9))
        theta = rotation + (np.arange(count) + rng.uniform(-0.3, 0.3, count)) * 2 * np.pi / count
        rho = radius * rng.uniform(0.65, 1.1, count)
    elif kind == 2:  # star
        points = int(rng.integers(4, 8))
        theta = rotation + np.arange(2 * points) * np.pi / points
        rho = np.where(np.arange(2 * points) % 2 == 0, radius, radius * rng.uniform(0.4, 0.65))
    else:  # smooth blob: radius modulated by a few harmonics
        theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
        rho = np.ones_like(theta)
        for harmonic in range(2, 5):
            rho += rng.uniform(0, 0.18) * np.sin(harmonic * theta + rng.uniform(0, 2 * np.pi))
        rho *= radius
        theta = theta + rotation
    return np.stack([rho * np.cos(theta), rho * np.sin(theta)], axis=1)


def _object_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One object's soft mask (H, W) float32 in [0, 1], centre-biased like real SOD data."""
    scale = min(height, width)
    radius = rng.uniform(0.12, 0.3) * scale
    margin = 0.6 * radius
    cx = float(np.clip(width / 2 + rng.normal(0, 0.15) * width, margin, width - margin))
    cy = float(np.clip(height / 2 + rng.normal(0, 0.15) * height, margin, height - margin))
    # Pixel centres are at integer coordinates in the output, (i + 0.5) * S - 0.5 supersampled.
    pts = (_outline(rng, radius) + [cx + 0.5, cy + 0.5]) * SUPERSAMPLE - 0.5
    canvas = np.zeros((height * SUPERSAMPLE, width * SUPERSAMPLE), np.uint8)
    cv2.fillPoly(canvas, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    mask = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA)
    mask = mask.astype(np.float32) / 255.0
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=rng.uniform(0.3, 0.7))


def _object_texture(rng: np.random.Generator, height: int, width: int, bg_hue: float
                    ) -> np.ndarray:
    """Saturated colours of a hue far from the background's, with a texture (H, W, 3)."""
    hue = bg_hue + rng.uniform(0.25, 0.75)
    sat, val = rng.uniform(0.55, 1.0), rng.uniform(0.55, 1.0)
    c0 = _bgr(hue, sat, val)
    c1 = _bgr(hue + rng.uniform(-0.07, 0.07), sat * rng.uniform(0.7, 1.0),
              val * rng.uniform(0.55, 1.0))
    ys, xs = _coords(height, width)
    kind = rng.integers(4)
    if kind == 0:  # flat
        t = np.zeros((height, width), np.float32)
    elif kind == 1:  # stripes
        angle, period = rng.uniform(0, np.pi), rng.uniform(0.05, 0.2)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * (np.cos(angle) * xs + np.sin(angle) * ys) / period)
    elif kind == 2:  # spots
        noise = _smooth_noise(rng, height, width, int(rng.integers(6, 14)), 1)[:, :, 0]
        t = 1.0 / (1.0 + np.exp(-3.0 * noise))
    else:  # shading
        angle = rng.uniform(0, 2 * np.pi)
        t = 0.5 + 0.5 * (np.cos(angle) * (xs - 0.5) + np.sin(angle) * (ys - 0.5)) * 2
    tex = c0 + (c1 - c0) * np.clip(t, 0, 1)[:, :, None].astype(np.float32)
    return tex + _fine_noise(rng, (height, width, 1), rng.uniform(3, 8))


def render_sample(index: int, seed: int = 0, img_size: Sequence[int] = (160, 160)
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """Render sample ``index`` of the set ``seed``: (image (H, W, 3) uint8 BGR, mask (H, W)
    uint8 with soft boundary values). Deterministic in ``(index, seed, img_size)``."""
    height, width = int(img_size[0]), int(img_size[1])
    if height < 16 or width < 16:
        raise ValueError(f'img_size must be at least 16x16, got {tuple(img_size)}')
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index), GENERATOR_VERSION]))
    img, bg_hue = _background(rng, height, width)
    union = np.zeros((height, width), np.float32)
    for _ in range(int(rng.choice([1, 2, 3], p=[0.7, 0.25, 0.05]))):
        alpha = _object_mask(rng, height, width)
        tex = _object_texture(rng, height, width, bg_hue)
        img = img * (1.0 - alpha[:, :, None]) + tex * alpha[:, :, None]
        union = np.maximum(union, alpha)
    image = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    mask = np.clip(union * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return image, mask


# ---------------------------------------------------------------------------- folder writing
def _spec(num_images: int, img_size: Sequence[int], seed: int, layout: str) -> dict:
    if layout not in LAYOUTS:
        raise ValueError(f'unknown layout {layout!r}; choose from {sorted(LAYOUTS)}')
    if int(num_images) < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    return dict(generator='salbox.datasets.synthetic', version=GENERATOR_VERSION,
                num_images=int(num_images), img_size=[int(s) for s in img_size], seed=int(seed),
                layout=layout)


def write_synthetic_folder(out_dir: str, num_images: int, img_size: Sequence[int] = (160, 160),
                           seed: int = 0, layout: str = 'separate',
                           progress: Optional[Iterable] = None) -> str:
    """Write ``num_images`` samples to ``out_dir`` (``images/*.jpg`` + ``masks/*.png``, or
    ``Imgs/`` side by side for ``layout='msra10k'``) plus ``meta.json``.

    Atomic: everything is written to a temporary sibling folder that is renamed to ``out_dir``
    at the end, so a crash never leaves a half-written ``out_dir``. ``progress`` optionally
    wraps the index range (e.g. ``tqdm``). Raises ``FileExistsError`` if ``out_dir`` exists.
    """
    spec = _spec(num_images, img_size, seed, layout)
    out_dir = osp.abspath(out_dir)
    if osp.exists(out_dir):
        raise FileExistsError(f'output folder already exists: {out_dir}')
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.tmp-', dir=parent)
    try:
        img_sub, mask_sub = LAYOUTS[layout]
        os.makedirs(osp.join(tmp_dir, img_sub), exist_ok=True)
        os.makedirs(osp.join(tmp_dir, mask_sub), exist_ok=True)
        indices = range(spec['num_images'])
        for index in (progress(indices) if progress is not None else indices):
            image, mask = render_sample(index, spec['seed'], spec['img_size'])
            stem = f'{index:06d}'
            if not (cv2.imwrite(osp.join(tmp_dir, img_sub, stem + '.jpg'), image,
                                [cv2.IMWRITE_JPEG_QUALITY, 95])
                    and cv2.imwrite(osp.join(tmp_dir, mask_sub, stem + '.png'), mask)):
                raise OSError(f'could not write sample {stem} under {tmp_dir}')
        with open(osp.join(tmp_dir, META_FILE), 'w', encoding='utf-8') as f:
            json.dump(spec, f, indent=2)
        os.rename(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return out_dir


def read_synthetic_meta(folder: str) -> Optional[dict]:
    path = osp.join(folder, META_FILE)
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def ensure_synthetic_folder(folder: str, num_images: int, img_size: Sequence[int], seed: int,
                            layout: str) -> None:
    """Generate ``folder`` if absent; if present, check it was made with the same settings."""
    spec = _spec(num_images, img_size, seed, layout)
    if not osp.exists(folder):
        where = '' if osp.isabs(folder) else \
            f' (relative data_root, so under the working directory {os.getcwd()})'
        print(f'note: generating the synthetic data set ({num_images} images and masks) in '
              f'{osp.abspath(folder)}{where}; set data_root to put it elsewhere',
              file=sys.stderr)
        try:
            write_synthetic_folder(folder, num_images, img_size, seed, layout)
        except OSError:
            if not osp.isdir(folder):  # not a lost race with another process: a real failure
                raise
    found = read_synthetic_meta(folder)
    if found != spec:
        got = 'no meta.json' if found is None else \
            ', '.join(f'{k}={found.get(k)}' for k in ('num_images', 'img_size', 'seed', 'layout'))
        want = ', '.join(f'{k}={spec[k]}' for k in ('num_images', 'img_size', 'seed', 'layout'))
        raise DataError(f'synthetic folder {folder} was not generated with the requested '
                        f'settings ({want}; found {got}); delete it or use another data_root/split')


@DATASETS.register_module()
class SyntheticSalDataset(SalientObjectDataset):
    """Synthetic SOD data (see the module docstring), generated into
    ``data_root/split`` on first use (atomically) and then read like any benchmark folder.

    Args:
        data_root (str): parent folder. Default ``'data/synthetic'``.
        split (str): sub-folder name, e.g. ``'train'`` or ``'test'``. Default ``'train'``.
        num_images (int): Default 500.
        img_size (tuple[int, int]): (height, width). Default (160, 160) (chosen).
        seed (int): the data are a pure function of ``seed``; give test splits another seed.
        layout (str): ``'separate'`` (images/ + masks/) or ``'msra10k'`` (side by side).
        dataset_name (str): Default ``'Synthetic'``.
        **kwargs: ``SalientObjectDataset`` / ``BaseDataset`` arguments (pipeline, test_mode, ...).
    """
    DEFAULT_NAME = 'Synthetic'

    def __init__(self, data_root: str = 'data/synthetic', split: str = 'train',
                 num_images: int = 500, img_size: Sequence[int] = (160, 160), seed: int = 0,
                 layout: str = 'separate', **kwargs) -> None:
        self.synthetic_folder = osp.join(data_root, split)
        self.synthetic_spec = dict(num_images=num_images, img_size=tuple(img_size), seed=seed,
                                   layout=layout)
        _spec(num_images, img_size, seed, layout)  # validate early
        img_sub, mask_sub = LAYOUTS[layout]
        super().__init__(data_root=self.synthetic_folder,
                         data_prefix=dict(img_path=img_sub, gt_path=mask_sub),
                         img_suffix='.jpg', mask_suffix='.png', **kwargs)

    def load_data_list(self):
        ensure_synthetic_folder(self.synthetic_folder, **self.synthetic_spec)
        return super().load_data_list()
