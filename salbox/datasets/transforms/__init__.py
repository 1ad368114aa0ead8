"""Pipeline transforms: loading, joint geometric augmentation, packing."""
from .formatting import PackSalInputs
from .geometric import RandomCropOrResize, RandomFlip, RandomRelativeCrop, RandomRotate, Resize
from .limit_pixels import LimitPixels
from .loading import LoadSalAnnotation, LoadSalImageFromFile

__all__ = [
    'LoadSalImageFromFile', 'LoadSalAnnotation', 'RandomCropOrResize', 'RandomFlip',
    'RandomRelativeCrop', 'RandomRotate', 'Resize', 'LimitPixels', 'PackSalInputs'
]
