"""salbox: an OpenMMLab-style toolbox for salient object detection."""
from .utils.checkpoint import register_safe_globals
from .version import __version__

# Let mmengine's Runner resume from its own checkpoints under torch's safe loading.
register_safe_globals()

__all__ = ['__version__']
