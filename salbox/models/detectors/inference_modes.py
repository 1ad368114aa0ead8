"""A detector's ``test_cfg``: whole-image or sliding-window inference, as MMSegmentation's
``EncoderDecoder`` (``mmseg/models/segmentors/encoder_decoder.py``, ``whole_inference`` and
``slide_inference``).

    model = dict(..., test_cfg=dict(mode='slide', crop_size=(320, 320), stride=(213, 213)))

``'whole'`` (the default) runs the network once on the test pipeline's image. ``'slide'`` runs
it on ``crop_size`` windows ``stride`` apart that cover the image (the last window of each row and
column is moved back inside it) and averages the overlapping logits: what a photo larger than the
network's training size needs when it is not resized. Every other key or mode is refused in one
line, so a setting is never accepted and then ignored.
"""
from typing import Callable, Optional, Tuple

import torch

TEST_MODES = ('whole', 'slide')
TEST_CFG_KEYS = {'mode', 'crop_size', 'stride'}


def _pair(value, name: str, owner: str) -> Tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value or ())
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{owner}: test_cfg.{name} must be a positive int or (h, w), got "
                         f'{value!r}')
    return pair


def check_test_cfg(test_cfg: Optional[dict], owner: str,
                   modes: Tuple[str, ...] = TEST_MODES) -> dict:
    """The validated ``test_cfg`` (``mode`` filled in); a clear error for anything unknown."""
    cfg = dict(test_cfg or {})
    unknown = sorted(set(cfg) - TEST_CFG_KEYS)
    if unknown:
        raise ValueError(f'{owner}: unknown test_cfg key(s) {unknown}; salbox detectors read '
                         f'{sorted(TEST_CFG_KEYS)} (loop settings go in the top-level test_cfg)')
    cfg.setdefault('mode', 'whole')
    if cfg['mode'] not in modes:
        raise ValueError(f"{owner}: test_cfg.mode must be one of {modes}, got {cfg['mode']!r}")
    if cfg['mode'] == 'slide':
        cfg['crop_size'] = _pair(cfg.get('crop_size'), 'crop_size', owner)
        cfg['stride'] = _pair(cfg.get('stride'), 'stride', owner)
    elif 'crop_size' in cfg or 'stride' in cfg:
        raise ValueError(f"{owner}: test_cfg.crop_size and stride are read only with "
                         "mode='slide'")
    return cfg


def check_train_cfg(train_cfg: Optional[dict], owner: str) -> None:
    """Detectors read no ``train_cfg``: refuse a non-empty one instead of ignoring it."""
    if train_cfg:
        raise ValueError(f'{owner}: model.train_cfg is not read by salbox detectors (got keys '
                         f'{sorted(train_cfg)}); the schedule is the top-level train_cfg')


def window_starts(size: int, crop: int, stride: int):
    """Start offsets of the windows along one axis (MMSeg's grid: the last one ends at size)."""
    count = max(size - crop + stride - 1, 0) // stride + 1
    return sorted({max(min(i * stride + crop, size) - crop, 0) for i in range(count)})


def slide_logits(logits_fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor,
                 crop_size: Tuple[int, int], stride: Tuple[int, int]) -> torch.Tensor:
    """Average of ``logits_fn`` (N, C, h, w) -> (N, 1, h, w) over overlapping windows."""
    height, width = inputs.shape[-2:]
    out = inputs.new_zeros((inputs.shape[0], 1, height, width))
    count = inputs.new_zeros((1, 1, height, width))
    for top in window_starts(height, crop_size[0], stride[0]):
        for left in window_starts(width, crop_size[1], stride[1]):
            bottom, right = min(top + crop_size[0], height), min(left + crop_size[1], width)
            out[..., top:bottom, left:right] += logits_fn(inputs[..., top:bottom, left:right])
            count[..., top:bottom, left:right] += 1
    return out / count
