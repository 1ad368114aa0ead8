"""Trainable second stages that take (image, map) and return a refined map (``base.py``: the
contract, and the adapter that makes a refiner a post-processor)."""
from .base import BaseRefiner, RefinerPostProcessor
from .brn import BoundaryRefinementNet

__all__ = ['BaseRefiner', 'RefinerPostProcessor', 'BoundaryRefinementNet']
