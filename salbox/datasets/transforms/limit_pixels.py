"""Bound the network's input for photos of any size (``tools/infer.py``).

A test pipeline without a resize step runs the network on the photo's full grid: working
memory then grows with the photo (a ResNet-18 R3Net took about 230 bytes per pixel, 9 GB for a
39 MP photo, benchmarks/bench_infer_memory.py). :class:`LimitPixels` shrinks an image larger
than ``max_pixels`` (keeping its aspect ratio, ``INTER_AREA``) and sets ``img_shape`` and
``scale_factor`` as ``Resize`` does, so the detector resizes the map back to the original grid;
smaller images pass unchanged. ``salbox.apis.build_inference_pipeline`` inserts it after image
loading when the config's test pipeline has no resize of its own.
"""
import cv2

from salbox.registry import TRANSFORMS

DEFAULT_NETWORK_PIXELS = 1_000_000


@TRANSFORMS.register_module()
class LimitPixels:
    """Downscale the image (never the mask) to at most ``max_pixels`` (width x height)."""

    def __init__(self, max_pixels: int = DEFAULT_NETWORK_PIXELS) -> None:
        if max_pixels < 1:
            raise ValueError(f'LimitPixels: max_pixels must be >= 1, got {max_pixels}')
        self.max_pixels = int(max_pixels)

    def __call__(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        if height * width <= self.max_pixels:
            return results
        factor = (self.max_pixels / (height * width)) ** 0.5
        new_w, new_h = max(1, int(width * factor)), max(1, int(height * factor))
        results['img'] = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_AREA)
        results['img_shape'] = (new_h, new_w)
        results['scale_factor'] = (new_w / width, new_h / height)
        results['keep_ratio'] = True
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(max_pixels={self.max_pixels})'
