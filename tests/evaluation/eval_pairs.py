"""Generated (prediction, mask) pairs for the evaluation tests, and the shared data path."""
from pathlib import Path

import cv2
import numpy as np

EXAMPLES = Path('shared') / 'data' / 'pysodmetrics_examples'


def find_examples():
    """``../shared/data/pysodmetrics_examples`` relative to the repo root, found from this
    file's location (works from any working directory and from a worktree copy)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / EXAMPLES
        if (candidate / 'version_performance.json').is_file():
            return candidate
    return None


def edge_case_pairs():
    """Empty / full / tiny masks and constant maps, as uint8 (pred, gt)."""
    rng = np.random.default_rng(123)
    h, w = 37, 53
    blob = np.zeros((h, w), np.uint8)
    cv2.circle(blob, (20, 15), 9, 255, -1)
    noise = rng.integers(0, 256, (h, w)).astype(np.uint8)
    pairs = [
        (noise, np.zeros((h, w), np.uint8)),                 # empty mask
        (noise, np.full((h, w), 255, np.uint8)),             # full mask
        (np.zeros((h, w), np.uint8), blob),                  # all-zero map
        (np.full((h, w), 255, np.uint8), blob),              # all-one map
        (np.full((h, w), 77, np.uint8), blob),               # constant map
        (np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)),
        (np.full((h, w), 255, np.uint8), np.full((h, w), 255, np.uint8)),
        (blob, blob),                                        # perfect map
        (255 - blob, blob),                                  # inverted map
        (noise[:1], (noise[:1] > 100).astype(np.uint8) * 255),  # one-row image
        (noise[:, :1], (noise[:, :1] > 100).astype(np.uint8) * 255),  # one-column image
        (noise[:1, :1], np.full((1, 1), 255, np.uint8)),     # one pixel
    ]
    single = np.zeros((h, w), np.uint8)
    single[h - 1, w - 1] = 255                               # centroid on the last row/col
    pairs.append((noise, single))
    edge = np.zeros((h, w), np.uint8)
    edge[:, w - 1] = 255
    pairs.append((noise, edge))
    ties = np.where(noise > 128, 128, noise).astype(np.uint8)  # gt exactly 128 (bg here)
    pairs.append((noise, ties))
    return pairs


def generated_pairs(count, seed=0, max_side=120):
    """``count`` varied pairs: soft and binary masks, sparse pixels, ellipses, noise maps."""
    rng = np.random.default_rng(seed)
    pairs = []
    for i in range(count):
        h, w = int(rng.integers(2, max_side)), int(rng.integers(2, max_side))
        kind = i % 6
        if kind == 0:
            gt = ((rng.random((h, w)) < rng.uniform(0.01, 0.6)) * 255).astype(np.uint8)
        elif kind == 1:
            gt = rng.integers(0, 256, (h, w)).astype(np.uint8)  # soft mask
        else:
            gt = np.zeros((h, w), np.uint8)
            for _ in range(int(rng.integers(1, 4))):
                center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                axes = (int(rng.integers(1, w // 2 + 2)), int(rng.integers(1, h // 2 + 2)))
                cv2.ellipse(gt, center, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
            if kind == 2:
                gt = cv2.GaussianBlur(gt, (0, 0), 2)  # soft edges
        style = rng.integers(0, 4)
        if style == 0:
            pred = rng.integers(0, 256, (h, w)).astype(np.uint8)
        else:
            pred = cv2.GaussianBlur(gt.astype(np.float64), (0, 0), float(rng.uniform(0.5, 4)))
            pred = pred * rng.uniform(0.3, 1.0) + rng.normal(0, 25, (h, w)) + rng.uniform(0, 40)
            pred = np.clip(pred, 0, 255).astype(np.uint8)
        pairs.append((pred, gt))
    return pairs
