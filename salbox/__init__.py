"""salbox: an OpenMMLab-style toolbox for salient object detection.

Importing salbox changes nothing in mmengine or torch (and imports neither): the tools switch
salbox's safe checkpoint loading on in mmengine with ``salbox.utils.mmengine_compat.enable()``.
"""
from .version import __version__

__all__ = ['__version__']
