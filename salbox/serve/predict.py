"""One uploaded photo -> saliency map and cut-out, as PNG bytes (no HTTP here).

Decoding goes through salbox's one image decoder (``salbox.utils.image_io.decode_image``:
by content, EXIF orientation applied, truncated and damaged files refused, the pixel limit
checked from the header before anything is decoded; docs/bad_input.md), so the server accepts
and refuses exactly the files ``tools/infer.py`` does, and says why in one line naming the
upload.
"""
import os
import tempfile
import time
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from salbox.evaluation.functional import to_uint8
from salbox.utils.errors import DataError
from salbox.utils.image_io import header_size


class UploadError(Exception):
    """A request the server refuses: ``status`` (HTTP code) and a one-line ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def decode_upload(data: bytes, filename: str, max_pixels: int) -> np.ndarray:
    """The uploaded bytes as an upright (H, W, 3) uint8 BGR photo; ``UploadError`` 400 for
    an empty, corrupt or non-image upload, 413 for one above ``max_pixels`` pixels."""
    name = repr(filename or 'upload')
    if not data:
        raise UploadError(400, f'the uploaded file {name} is empty (0 bytes)')
    size = header_size(np.frombuffer(data, np.uint8))
    if size is not None and size[0] * size[1] > max_pixels:
        raise UploadError(413, f'the uploaded image {name} is {size[0]}x{size[1]} '
                          f'({size[0] * size[1] / 1e6:.1f} MP), above this server\'s limit of '
                          f'{max_pixels / 1e6:g} MP (--max-pixels); downscale it')
    from salbox.utils.image_io import decode_image
    handle, path = tempfile.mkstemp(prefix='salbox-serve-')
    try:
        with os.fdopen(handle, 'wb') as f:
            f.write(data)
        image = decode_image(path, 'color', apply_exif_orientation=True, what='image',
                             max_pixels=max_pixels)
    except DataError as err:  # names the temporary file: name the upload instead
        text = str(err).replace(f'image file {path}', f'uploaded file {name}')
        text = text.replace(path, name)
        status = 413 if 'above the' in text and 'MP limit' in text else 400
        raise UploadError(status, text) from None
    finally:
        os.unlink(path)
    if image.shape[0] * image.shape[1] > max_pixels:  # a format whose header we cannot read
        raise UploadError(413, f'the uploaded image {name} has {image.shape[1]}x'
                          f'{image.shape[0]} pixels, above this server\'s limit of '
                          f'{max_pixels / 1e6:g} MP (--max-pixels)')
    return image


@dataclass
class Prediction:
    image_bgr: np.ndarray  # the decoded photo the map is aligned with
    sal_map: np.ndarray  # float32 (H, W) in [0, 1]
    model_ms: float  # network (and DenseCRF) time, lock wait excluded


def predict(loaded, image_bgr: np.ndarray, crf: bool = False) -> Prediction:
    """Run the model (holding its lock) and, with ``crf``, DenseCRF with R3Net's parameters on
    the map and the photo (``salbox.models.postprocessors.DenseCRF``)."""
    from salbox.apis import inference_model
    with loaded.lock:
        start = time.perf_counter()
        sample = inference_model(loaded.model, image_bgr)
        sal_map = sample.pred_sal_map.data
        if crf:
            from salbox.models.postprocessors import DenseCRF
            image_rgb = torch.from_numpy(np.ascontiguousarray(image_bgr[:, :, ::-1]))
            sal_map = DenseCRF().postprocess(image_rgb.permute(2, 0, 1), sal_map)
        sal_map = sal_map[0].float().cpu().numpy()
        elapsed = (time.perf_counter() - start) * 1000
    return Prediction(image_bgr, sal_map, elapsed)


def encode_png(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode('.png', image)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 array
        raise RuntimeError('PNG encoding failed')
    return buffer.tobytes()


def map_png(prediction: Prediction) -> bytes:
    """The 8-bit grey map, rounded as salbox saves maps (``to_uint8``)."""
    return encode_png(to_uint8(prediction.sal_map))


def cutout_png(prediction: Prediction) -> bytes:
    """The photo as RGBA with the 8-bit map as alpha (``salbox infer --cutout``)."""
    from salbox.apis.matting import compose
    bgra = compose(prediction.image_bgr[..., ::-1], prediction.sal_map)
    return encode_png(bgra)  # OpenCV writes BGRA as an RGBA PNG
