"""Package names imported on first access (module ``__getattr__``, PEP 562).

``salbox.evaluation``, ``salbox.visualization`` and ``salbox.utils`` export a few names whose
modules import mmengine (and so torch); the metric tools must not pay for that. Each package
calls :func:`lazy_exports` once. This module imports nothing but the standard library.
"""
import importlib
import sys
from typing import Callable, Dict, List, Tuple


def lazy_exports(package: str, names: Dict[str, str]
                 ) -> Tuple[Callable[[str], object], Callable[[], List[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``names`` maps an exported name to the
    relative module defining it; the first access imports it and caches it on the package."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f'module {package!r} has no attribute {name!r}')
        value = getattr(importlib.import_module(names[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> List[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
