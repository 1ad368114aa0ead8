"""Trainable second stages that take (image, map) and return a refined map."""
from .brn import BoundaryRefinementNet

__all__ = ['BoundaryRefinementNet']
