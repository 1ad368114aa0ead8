"""salbox: an OpenMMLab-style toolbox for salient object detection."""
from .utils.post_import import when_imported
from .version import __version__


def _register_safe_globals() -> None:
    from .utils.checkpoint import register_safe_globals
    register_safe_globals()


# Let mmengine's Runner resume from its own checkpoints under torch's safe loading, and route
# every checkpoint mmengine opens through salbox's checks (salbox/utils/checkpoint.py). This
# runs as soon as mmengine's runner package is imported (the module that defines its
# checkpoint loader), not here: ``import salbox`` and the metric tools stay free of torch.
when_imported('mmengine.runner', _register_safe_globals)
if 'torch' in __import__('sys').modules:  # torch.load(weights_only=True) of Runner files
    _register_safe_globals()

__all__ = ['__version__']
