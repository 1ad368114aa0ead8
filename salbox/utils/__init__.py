"""Utilities. Names are imported on first use (module ``__getattr__``, PEP 562), so that
``salbox.utils.errors`` or ``salbox.utils.image_io`` do not pull in torch or mmengine."""
import importlib

_LAZY = {
    'load_checkpoint_file': '.checkpoint',
    'register_safe_globals': '.checkpoint',
    'register_all_modules': '.set_env',
}

__all__ = ['load_checkpoint_file', 'register_safe_globals', 'register_all_modules']


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(set(globals()) | set(__all__))
