"""Pipeline transforms: loading, joint geometric augmentation, packing."""
from .formatting import PackSalInputs
from .geometric import RandomCropOrResize, RandomFlip, RandomRotate, Resize
from .limit_pixels import LimitPixels
from .loading import LoadSalAnnotation, LoadSalImageFromFile

__all__ = [
    'LoadSalImageFromFile', 'LoadSalAnnotation', 'RandomCropOrResize', 'RandomFlip',
    'RandomRotate', 'Resize', 'LimitPixels', 'PackSalInputs'
]
