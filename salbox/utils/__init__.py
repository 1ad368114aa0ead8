"""Utilities. Names are imported on first use (module ``__getattr__``, PEP 562), so that
``salbox.utils.errors`` or ``salbox.utils.image_io`` do not pull in torch or mmengine."""
from .lazy_exports import lazy_exports

_LAZY = {
    'load_checkpoint_file': '.checkpoint',
    'register_safe_globals': '.checkpoint',
    'register_all_modules': '.set_env',
}

__all__ = ['load_checkpoint_file', 'register_safe_globals', 'register_all_modules']

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
