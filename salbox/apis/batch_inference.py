"""Saliency maps (and cut-outs) for many photos at speed, and for videos.

:func:`predict_files` is the engine behind ``salbox infer``: a ``torch.utils.data.DataLoader``
whose workers decode and preprocess the photos (the model's inference pipeline,
:func:`salbox.apis.inference.inference_pipelines`) while the main process runs the model;
samples whose network inputs have the same shape are predicted together (U²-Net resizes every
photo to 320x320, so batching is exact: the maps equal the one-at-a-time path within float
tolerance, ``tests/cli/test_salbox_command.py``). A photo that cannot be decoded, or whose
prediction or write fails, is reported with its reason and the others go on; a batch that
fails is retried one photo at a time so only the bad photo is lost. Outputs are written with
:mod:`salbox.utils.atomic_file`, so an interrupted run resumes (complete outputs are skipped by
the caller).

:func:`predict_video` streams a video's frames (memory flat in its length): each batch of
frames goes through the in-memory pipeline and the model, and its maps (and cut-outs) are
written before the next batch is read.
"""
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from salbox.utils.errors import SalboxError
from .inference import inference_pipelines


def prepare_for_inference(model, device: str = 'cpu'):
    """Make ``model`` faster for inference, in place: on the CPU its weights go to the
    channels-last memory format, which oneDNN's convolutions run faster (U²-Netp at 320x320 on
    one core: 0.85 -> 0.63 s per image, docs/cli.md); the maps change by float rounding only
    (about 1e-5). Returns the model."""
    if str(device).startswith('cpu'):
        model.to(memory_format=torch.channels_last)
    return model


def default_batch_size(device: str) -> int:
    """Photos per forward: 1 on the CPU (a batch of 320x320 U²-Netp inputs runs slower per
    photo there: 0.63 s at 1, 0.78 s at 4, channels-last), 8 on a GPU."""
    return 1 if str(device).startswith('cpu') else 8


def failure_reason(path: str, err: BaseException) -> str:
    """One line for a failed image, naming it once (``salbox infer`` and ``tools/infer.py``)."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if isinstance(err, OSError) and err.strerror:
        text = f'{err.strerror}: {err.filename}' if err.filename else err.strerror
    if not isinstance(err, (SalboxError, OSError)):
        text = f'{type(err).__name__}: {text}'
    return text if path in text else f'{path}: {text}'


MAX_LISTED = 20


def report_failures(failures: Sequence[Tuple[object, str]], out_dir: str,
                    what: str = 'image(s)') -> None:
    """Print the skipped inputs (the first ``MAX_LISTED`` and a count) on stderr and write all
    their reasons to ``out_dir/failed.txt`` (``salbox infer`` and ``tools/infer.py``)."""
    from salbox.utils.atomic_file import atomic_write_bytes
    lines = [reason for _, reason in failures]
    more = [f'... and {len(lines) - MAX_LISTED} more'] if len(lines) > MAX_LISTED else []
    listing = osp.join(out_dir, 'failed.txt')
    try:
        atomic_write_bytes(listing, ('\n'.join(lines) + '\n').encode('utf-8'))
        more.append(f'(all in {listing})')
    except OSError:  # an unwritable output folder: the list on stderr is all there is
        pass
    print(f'{len(failures)} {what} skipped:\n  ' + '\n  '.join(lines[:MAX_LISTED] + more),
          file=sys.stderr)


class ImageFiles(torch.utils.data.Dataset):
    """Photos run through the model's inference pipeline; an item is ``(index, data, None)``
    or ``(index, None, reason)`` when the photo cannot be used (never raises, so a bad file
    never stops a worker)."""

    def __init__(self, paths: Sequence[str], pipeline):
        self.paths = list(paths)
        self.pipeline = pipeline

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        path = self.paths[index]
        try:
            if not osp.lexists(path):
                raise SalboxError(f'image not found: {path}')
            return index, self.pipeline(dict(img_path=path, dataset_name='inference')), None
        except Exception as err:  # reported by the main process, the run goes on
            return index, None, failure_reason(path, err)


def _worker_init(_):
    torch.set_num_threads(1)  # decoding workers must not compete with the model's threads


def _shape_key(data) -> Optional[tuple]:
    inputs = data.get('inputs')
    return tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else None


def same_shape_groups(items: List[Tuple[int, dict]], batch_size: int) -> Iterator[list]:
    """Split ``(index, data)`` items into runs of at most ``batch_size`` with equal network
    input shapes (a test-time-augmentation sample, whose inputs are a list, goes alone), in
    order."""
    group, key = [], None
    for item in items:
        item_key = _shape_key(item[1])
        if group and (item_key is None or item_key != key or len(group) >= batch_size):
            yield group
            group = []
        group.append(item)
        key = item_key
    if group:
        yield group


@torch.no_grad()
def predict_batch(model, datas: List[dict]) -> list:
    """``SalDataSample`` predictions for preprocessed samples of one input shape."""
    return model.test_step(pseudo_collate(datas))


@dataclass
class RunStats:
    written: int = 0
    failures: List[Tuple[str, str]] = field(default_factory=list)


def predict_files(model, paths: Sequence[str], write: Callable[[str, object], None],
                  batch_size: int = 8, workers: int = 2, progress: bool = True,
                  desc: str = 'saliency', stats: Optional[RunStats] = None) -> RunStats:
    """Predict every photo in ``paths`` and call ``write(path, sample)`` for each prediction
    (``sample.pred_sal_map`` at the photo's size, ``sample.ori_img`` the decoded photo).
    Returns the counts and the ``(path, reason)`` of every photo that failed."""
    from tqdm import tqdm
    stats = stats or RunStats()
    if not paths:
        return stats
    pipeline, _ = inference_pipelines(model)
    workers = max(0, min(int(workers), len(paths) - 1))
    loader = torch.utils.data.DataLoader(
        ImageFiles(paths, pipeline), batch_size=max(1, batch_size), shuffle=False,
        num_workers=workers, collate_fn=list, worker_init_fn=_worker_init if workers else None,
        prefetch_factor=2 if workers else None)
    debug = os.environ.get('SALBOX_DEBUG', '0') == '1'
    bar = tqdm(total=len(paths), desc=desc, unit='img', disable=not progress, smoothing=0.1)
    try:
        for items in loader:
            ready = []
            for index, data, reason in items:
                if reason is None:
                    ready.append((index, data))
                else:
                    stats.failures.append((paths[index], reason))
                    bar.update(1)
            for group in same_shape_groups(ready, batch_size):
                _run_group(model, [(paths[i], d) for i, d in group], write, stats, debug)
                bar.update(len(group))
    finally:
        bar.close()
    return stats


def _run_group(model, group, write, stats: RunStats, debug: bool) -> None:
    try:
        samples = predict_batch(model, [d for _, d in group])
    except KeyboardInterrupt:
        raise
    except Exception as err:
        if debug:
            raise
        if len(group) > 1:  # find the photo that broke the batch; the others are kept
            for one in group:
                _run_group(model, [one], write, stats, debug)
            return
        stats.failures.append((group[0][0], failure_reason(group[0][0], err)))
        return
    for (path, _), sample in zip(group, samples):
        try:
            write(path, sample)
            stats.written += 1
        except KeyboardInterrupt:
            raise
        except Exception as err:
            if debug:
                raise
            stats.failures.append((path, failure_reason(path, err)))


def sal_map_of(sample) -> np.ndarray:
    """The predicted map, float32 (H, W) in [0, 1]."""
    return sample.pred_sal_map.data[0].float().cpu().numpy()


def image_of(sample) -> np.ndarray:
    """The decoded photo the map is aligned with, uint8 RGB (H, W, 3)."""
    from salbox.structures import original_image
    return original_image(sample).permute(1, 2, 0).cpu().numpy()


VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv')


def is_video(path: str) -> bool:
    return path.lower().endswith(VIDEO_SUFFIXES)


def video_info(path: str) -> Tuple[float, int, Tuple[int, int]]:
    """``(fps, frame count (0 when unknown), (width, height))`` of a video; the file is
    opened and closed."""
    capture, fps, count, size = _open_video(path)
    capture.release()
    return fps, count, size


def _open_video(path: str):
    import cv2
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        capture.release()
        raise SalboxError(f'cannot open video {path} (not a video, or a codec OpenCV lacks)')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return capture, fps, count, size


def video_frames(path: str) -> Tuple[Iterator[np.ndarray], float, int, Tuple[int, int]]:
    """``(frames, fps, frame count (0 when unknown), (width, height))``; frames are BGR
    uint8, read one at a time."""
    capture, fps, count, size = _open_video(path)

    def frames():
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield frame
        finally:
            capture.release()
    return frames(), fps, count, size


@torch.no_grad()
def predict_video(model, path: str, write_frame: Callable[[int, object], None],
                  batch_size: int = 8, progress: bool = True) -> int:
    """Predict every frame of ``path`` in order, ``batch_size`` frames at a time, calling
    ``write_frame(index, sample)``; at most one batch of frames is held. Returns the number of
    frames."""
    from tqdm import tqdm
    from .inference import _results_for
    frames, _, count, _ = video_frames(path)
    _, in_memory = inference_pipelines(model)
    bar = tqdm(total=count or None, desc=osp.basename(path), unit='frame', disable=not progress)
    index, pending = 0, []

    def flush():
        nonlocal index
        datas = [in_memory(_results_for(frame)) for frame in pending]
        for group in same_shape_groups(list(enumerate(datas)), batch_size):
            for (_, _), sample in zip(group, predict_batch(model, [d for _, d in group])):
                write_frame(index, sample)
                index += 1
        bar.update(len(pending))
        pending.clear()
    try:
        for frame in frames:
            pending.append(frame)
            if len(pending) >= batch_size:
                flush()
        if pending:
            flush()
    finally:
        bar.close()
    if index == 0:
        raise SalboxError(f'no frame could be read from {path}')
    return index
